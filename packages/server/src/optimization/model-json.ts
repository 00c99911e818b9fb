/**
 * Models asked for JSON answer with prose around it, in a ```json fence, or with trailing
 * commas. This finds the first JSON object in such an answer and checks it against a schema.
 */
import type { z } from "zod";
import { extractCodeBlocks } from "../code/index.js";

function candidates(text: string): string[] {
  const found: string[] = [];
  for (const block of extractCodeBlocks(text).blocks) found.push(block.code);
  // Every balanced {...} span, outermost first (strings are skipped so braces in them don't count).
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i += 1) {
      const ch = text[i];
      if (inString) {
        if (ch === "\\") i += 1;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === "{") depth += 1;
      else if (ch === "}") {
        depth -= 1;
        if (depth === 0) {
          found.push(text.slice(start, i + 1));
          break;
        }
      }
    }
  }
  return found;
}

/** The first JSON value in `text` that the schema accepts, or undefined. */
export function parseModelJson<S extends z.ZodType>(text: string, schema: S): z.infer<S> | undefined {
  for (const candidate of candidates(text)) {
    for (const attempt of [candidate, candidate.replace(/,\s*([}\]])/g, "$1")]) {
      try {
        const parsed = schema.safeParse(JSON.parse(attempt));
        if (parsed.success) return parsed.data;
      } catch {
        // Not JSON; try the next candidate.
      }
    }
  }
  return undefined;
}
