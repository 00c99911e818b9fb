import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const cli = join(root, "packages", "cli", "dist", "main.js");
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiservice-cli-"));
  dirs.push(dir);
  return dir;
}

/** The environment a user has: none of our variables unless a test sets them. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tempDir(), ...extra };
  return env;
}

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: cleanEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running command and resolves once it prints its listening URL. */
function startServing(command: string, args: string[], env: Record<string, string> = {}) {
  // Own process group, so a signal reaches the server behind wrappers such as `npm start`.
  const child = spawn(command, args, { env: cleanEnv(env), cwd: root, detached: true });
  const signal = (name: NodeJS.Signals) => {
    if (child.pid !== undefined) process.kill(-child.pid, name);
  };
  let output = "";
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/\S+?) /.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("close", (code) => reject(new Error(`exited ${code} before listening:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, url, exited, signal, output: () => output };
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does it first)`);
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("aiservice keys", () => {
  it("create → list → revoke, key shown once and stored only hashed", async () => {
    const dataDir = tempDir();
    const created = await run([
      "keys",
      "create",
      "--name",
      "ci bot",
      "--scopes",
      "inference,monitoring",
      "--prefix",
      "cf-",
      "--data-dir",
      dataDir,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cf-[a-z0-9]{10}\.[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/only time it is shown/);

    const listed = await run(["keys", "list", "--json", "--data-dir", dataDir]);
    const keys = JSON.parse(listed.stdout) as Array<{
      id: string;
      name: string;
      scopes: string[];
      revokedAt: string | null;
    }>;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ name: "ci bot", scopes: ["inference", "monitoring"], revokedAt: null });
    expect(listed.stdout).not.toContain(key.split(".")[1]);

    const db = readFileSync(join(dataDir, "aiservice.db"));
    expect(db.includes(key.split(".")[1] ?? "")).toBe(false);

    const revoked = await run(["keys", "revoke", keys[0]!.id, "--data-dir", dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const table = await run(["keys", "list", "--data-dir", dataDir]);
    expect(table.stdout).toMatch(/revoked \d{4}-/);
  });

  it("rejects unknown scopes and unknown ids with a clear message", async () => {
    const dataDir = tempDir();
    const bad = await run([
      "keys",
      "create",
      "--name",
      "x",
      "--scopes",
      "inference,root",
      "--data-dir",
      dataDir,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/scopes\[1\]: /);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
    const missing = await run(["keys", "revoke", "nope", "--data-dir", dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no API key with id 'nope'/);
  });
});

describe("aiservice config print", () => {
  it("prints the effective config with secrets redacted", async () => {
    const dataDir = tempDir();
    const res = await run(["config", "print", "--data-dir", dataDir], {
      DATABASE_URL: "postgres://app:hunter2@127.0.0.1:5432/test",
      AISERVICE_PORT: "8123",
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("port: 8123");
    expect(res.stdout).toContain(`data_dir: ${dataDir}`);
    expect(res.stdout).not.toContain("hunter2");
  });

  it("a bad config stops with the key named", async () => {
    const dataDir = tempDir();
    const file = join(dataDir, "bad.yaml");
    writeFileSync(file, "server:\n  port: -5\n");
    const res = await run(["config", "print", "--config", file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/server\.port/);
  });
});

describe("aiservice serve", () => {
  const children: Array<{ signal(name: NodeJS.Signals): void }> = [];
  afterAll(() => {
    for (const child of children) {
      try {
        child.signal("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });

  it("serves, then exits 0 on SIGTERM after draining", async () => {
    const dataDir = tempDir();
    const serving = startServing(process.execPath, [cli, "serve", "--port", "0", "--data-dir", dataDir]);
    children.push(serving);
    const url = await serving.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    serving.signal("SIGTERM");
    expect(await serving.exited).toBe(0);
    expect(serving.output()).toContain("shutdown complete");
    expect(existsSync(join(dataDir, "aiservice.db"))).toBe(true);
  });

  it("refuses a non-loopback bind without auth, saying why", async () => {
    const res = await run(["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", tempDir()]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without authentication/);
  });

  it("a taken port is a one-line error", async () => {
    const dataDir = tempDir();
    const first = startServing(process.execPath, [cli, "serve", "--port", "0", "--data-dir", dataDir]);
    children.push(first);
    const port = new URL(await first.url).port;
    const second = await run(["serve", "--port", port, "--data-dir", tempDir()]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
    first.signal("SIGTERM");
    await first.exited;
  });

  it("`npm start -- --port --data-dir` passes the flags through", async () => {
    const dataDir = tempDir();
    const serving = startServing("npm", ["start", "--silent", "--", "--port", "0", "--data-dir", dataDir], {
      npm_config_update_notifier: "false",
    });
    children.push(serving);
    const url = await serving.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(existsSync(join(dataDir, "aiservice.db"))).toBe(true);
    serving.signal("SIGTERM");
    await serving.exited;
    expect(serving.output()).toContain("shutdown complete");
  }, 120_000);
});
