import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_TYPES_PATH, generateSdkTypes } from "../../../scripts/generate-sdk-types.js";

/** Where two texts first differ, for a short failure message instead of a 1000-line diff. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split("\n");
  const b = fresh.split("\n");
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? "<end>")}, generated ${JSON.stringify(b[at] ?? "<end>")}`;
}

describe("packages/sdk/src/generated/openapi.ts", () => {
  it("matches what the server's /openapi.json generates today", async () => {
    const fresh = await generateSdkTypes();
    const committed = readFileSync(GENERATED_TYPES_PATH, "utf8");
    const message = committed === fresh ? "" : firstDifference(committed, fresh);
    expect(committed === fresh, `generated SDK types are stale, run npm run generate (${message})`).toBe(
      true,
    );
  });
});
