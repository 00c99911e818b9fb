import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../server/src/auth/api-key-service.js";
import { FakeProvider } from "../../server/test/helpers/fake-provider.js";
import { startTestServer, type TestServer } from "../../server/test/helpers/test-server.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const cli = join(root, "packages", "cli", "dist", "main.js");
const MB = 1024 * 1024;
const home = mkdtempSync(join(tmpdir(), "aiservice-cli-models-"));
let server: TestServer;
let apiKey: string;

/** Runs the built CLI with a user's environment: none of our variables unless given. */
function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH, HOME: home, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `aiservice models <args> --url <test server> --api-key <admin key>`. */
function models(...args: string[]) {
  return run(["models", ...args, "--url", server.url, "--api-key", apiKey]);
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does it first)`);
  server = await startTestServer(
    {
      auth: { required: true },
      models: [
        { id: "tiny", provider: "llama-cpp", source: "/x.gguf" },
        { id: "small", provider: "llama-cpp", source: "/small.gguf" },
      ],
    },
    // Long enough that a 250 ms poll sees the load in progress.
    {
      // `small` loads slowly enough that `pull` (a new process) still finds its load running.
      createProvider: (entry) =>
        new FakeProvider(entry.id, { loadMs: entry.id === "small" ? 5_000 : 1_000, sizeBytes: 50 * MB }),
    },
  );
  apiKey = (await createApiKey(server.services.store.apiKeys, { name: "cli tests", scopes: ["admin"] })).key;
});
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("aiservice models", () => {
  it("list prints a table of id, status, provider, memory and last use", async () => {
    const res = await models("list");
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PROVIDER\s+MEMORY MB\s+LAST USED$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^small\s+available\s+llama-cpp\s+0\s+never$/),
      expect.stringMatching(/^tiny\s+available\s+llama-cpp\s+0\s+never$/),
    ]);
  });

  it("list --json, with the server and key from AISERVICE_URL and AISERVICE_API_KEY", async () => {
    const res = await run(["models", "list", "--json"], {
      AISERVICE_URL: server.url,
      AISERVICE_API_KEY: apiKey,
    });
    expect(res.code, res.stderr).toBe(0);
    const list = JSON.parse(res.stdout) as Array<{ id: string; status: string; provider: string }>;
    expect(list.map((m) => [m.id, m.status, m.provider])).toEqual([
      ["small", "available", "llama-cpp"],
      ["tiny", "available", "llama-cpp"],
    ]);
  });

  it("load shows progress until loaded, then prints the result; unload prints the memory freed", async () => {
    const loaded = await models("load", "tiny", "--priority", "high", "--timeout", "60");
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stderr).toContain("tiny: load 50%");
    expect(loaded.stdout).toMatch(/^loaded tiny: 50 MB in \d+\.\d s\n$/);

    const list = await models("list");
    expect(list.stdout).toMatch(/^tiny\s+loaded\s+llama-cpp\s+50\s+never$/m);

    const again = await models("load", "tiny");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/tiny is already loaded/);

    const unloaded = await models("unload", "tiny");
    expect(unloaded.code, unloaded.stderr).toBe(0);
    expect(unloaded.stdout).toMatch(/^unloaded tiny: freed 50 MB in \d+ ms\n$/);
  });

  it("load --no-wait only queues; pull waits for it (download, then load)", async () => {
    const queued = await models("load", "small", "--no-wait", "--json");
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({ model_id: "small", status: "loading" });

    const pulled = await models("pull", "small");
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/^pulled small: 50 MB in/);
    await models("unload", "small");
  });

  it("an unknown model is one line with the server's suggestion, exit 1", async () => {
    const res = await models("load", "tinyy");
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      "aiservice: Requested model 'tinyy' is not available (MODEL_NOT_FOUND). Use 'tiny' instead.\n",
    );
  });

  it("missing credentials say how to pass them", async () => {
    const res = await run(["models", "list", "--url", server.url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^aiservice: missing credentials.*\(UNAUTHORIZED\)\. Pass --api-key or set AISERVICE_API_KEY\.\n$/,
    );
  });

  it("a server that is down is one clear line, exit 1", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await run(["models", "load", "tiny", "--url", url]);
    expect(res.code).toBe(1);
    expect(res.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(res.stderr).toContain(`aiservice: cannot reach the aiservice server at ${url}`);
    expect(res.stderr).toMatch(/Is the server running\? Start it with `aiservice serve`/);
    expect(res.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("bad option values are refused before any request", async () => {
    const res = await models("load", "tiny", "--priority", "urgent");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Allowed choices are high, normal, low/);
  });
});
