import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, defaultDataDir, loadConfig } from "../../src/config/load-config.js";
import { redactConfig } from "../../src/config/redact-config.js";
import { assertSafeBinding } from "../../src/server.js";

const dir = mkdtempSync(join(tmpdir(), "aiservice-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("defaults: 127.0.0.1:8000, SQLite in the XDG data dir, seed rate limits", () => {
    const config = loadConfig({}, { HOME: "/home/u" });
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8000 });
    expect(config.data_dir).toBe("/home/u/.local/share/aiservice");
    expect(config.database_url).toBeUndefined();
    expect(config.rate_limits).toEqual({
      window_seconds: 60,
      authenticated: 1000,
      inference: 100,
      models: 50,
      batch: 10,
      optimization: 600,
    });
    expect(defaultDataDir({ XDG_DATA_HOME: "/x" })).toBe("/x/aiservice");
  });

  it("file < env < flags", () => {
    const path = file(
      "layers.yaml",
      "server:\n  host: 127.0.0.2\n  port: 9000\nrate_limits:\n  inference: 5\n",
    );
    const env = {
      AISERVICE_CONFIG: path,
      AISERVICE_PORT: "9100",
      AISERVICE_DATA_DIR: dir,
      REDIS_URL: "redis://127.0.0.1:6379",
    };
    const fromEnv = loadConfig({}, env);
    expect(fromEnv.server).toMatchObject({ host: "127.0.0.2", port: 9100 });
    expect(fromEnv.rate_limits.inference).toBe(5);
    expect(fromEnv.redis_url).toBe("redis://127.0.0.1:6379");
    const fromFlags = loadConfig({ port: 9200, host: "::1", dataDir: join(dir, "flags") }, env);
    expect(fromFlags.server).toMatchObject({ host: "::1", port: 9200 });
    expect(fromFlags.data_dir).toBe(join(dir, "flags"));
  });

  it("picks up <data_dir>/config.yaml when no file is named", () => {
    const dataDir = mkdtempSync(join(dir, "dd-"));
    writeFileSync(join(dataDir, "config.yaml"), "logging:\n  level: debug\n");
    expect(loadConfig({ dataDir }, {}).logging.level).toBe("debug");
  });

  it("names the key and the problem", () => {
    const path = file("bad.yaml", "server:\n  port: eighty\n  prot: 1\nrate_limits:\n  inference: -1\n");
    const message = messageOf(() => loadConfig({ configFile: path }, {}));
    expect(message).toContain(path);
    expect(message).toMatch(/server\.port: .*expected number/i);
    expect(message).toMatch(/server\.prot/);
    expect(message).toMatch(/rate_limits\.inference: .*>=\s*1/);
  });

  it("names the env var behind a bad value", () => {
    expect(messageOf(() => loadConfig({}, { AISERVICE_PORT: "http" }))).toMatch(
      /AISERVICE_PORT: expected an integer port/,
    );
    expect(messageOf(() => loadConfig({}, { DATABASE_URL: "mysql://x" }))).toMatch(
      /database_url \(from env DATABASE_URL\): must be a postgres/,
    );
    expect(messageOf(() => loadConfig({}, { AISERVICE_PORT: "70000" }))).toMatch(
      /server\.port \(from env AISERVICE_PORT\)/,
    );
  });

  it("invalid YAML, missing file and non-mapping files are clear errors", () => {
    expect(messageOf(() => loadConfig({ configFile: file("broken.yaml", "server: [1, 2\n") }, {}))).toMatch(
      /not valid YAML/,
    );
    expect(messageOf(() => loadConfig({ configFile: join(dir, "missing.yaml") }, {}))).toMatch(
      /cannot read config file .*ENOENT/,
    );
    expect(messageOf(() => loadConfig({ configFile: file("list.yaml", "- a\n- b\n") }, {}))).toMatch(
      /mapping/,
    );
  });

  it("JWT config is checked for consistency", () => {
    const both = file("jwt.yaml", "auth:\n  jwt:\n    secret: short\n");
    expect(messageOf(() => loadConfig({ configFile: both }, {}))).toMatch(
      /auth\.jwt\.secret: must be at least 32/,
    );
    const conf = file(
      "jwt2.yaml",
      `auth:\n  jwt:\n    jwks_url: https://idp.example/jwks\n    algorithms: [HS256]\n`,
    );
    expect(messageOf(() => loadConfig({ configFile: conf }, {}))).toMatch(
      /auth\.jwt\.algorithms: with `jwks_url` HS256/,
    );
  });

  it("validates model entries per provider and redacts their keys", () => {
    const path = file(
      "models.yaml",
      [
        "models:",
        "  - id: local",
        "    provider: llama-cpp",
        "    source: /m/x.gguf",
        "  - id: gpt",
        "    provider: openai-compatible",
        "    base_url: http://127.0.0.1:9/v1",
        "    api_key: sk-very-secret",
        "  - id: local",
        "    provider: llama-cpp",
        "    source: /m/y.gguf",
      ].join("\n"),
    );
    expect(messageOf(() => loadConfig({ configFile: path }, {}))).toMatch(
      /models\[2\]\.id: duplicate model id 'local'/,
    );
    const unknown = file("models-bad.yaml", "models:\n  - id: bad\n    provider: ollama\n");
    expect(messageOf(() => loadConfig({ configFile: unknown }, {}))).toMatch(/models\[0\]\.provider/);
    const ok = file(
      "models-ok.yaml",
      "models:\n  - id: gpt\n    provider: openai-compatible\n    base_url: http://127.0.0.1:9/v1\n    api_key: sk-very-secret\n",
    );
    const config = loadConfig({ configFile: ok }, {});
    expect(JSON.stringify(redactConfig(config))).not.toContain("sk-very-secret");
    expect(loadConfig({}, { HOME: "/h" }).models.map((m) => m.id)).toEqual(["qwen2.5-coder-1.5b-instruct"]);
  });

  it("AISERVICE_CFAPI_PORT turns on the cfapi stand-in on that port (loopback by default)", () => {
    expect(loadConfig({}, { HOME: "/h" }).optimization.cfapi).toBeUndefined();
    const config = loadConfig({}, { HOME: "/h", AISERVICE_CFAPI_PORT: "3001" });
    expect(config.optimization.cfapi).toEqual({ host: "127.0.0.1", port: 3001 });
    expect(() => loadConfig({}, { HOME: "/h", AISERVICE_CFAPI_PORT: "x" })).toThrow(/AISERVICE_CFAPI_PORT/);
  });

  it("redacts secrets for printing", () => {
    const config = loadConfig(
      {},
      {
        DATABASE_URL: "postgres://app:hunter2@db:5432/ai",
        REDIS_URL: "redis://:pw@cache:6379",
        AISERVICE_JWT_SECRET: "s".repeat(40),
        AISERVICE_DATA_DIR: dir,
      },
    );
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain("hunter2");
    expect(printed).not.toContain("s".repeat(40));
    expect(printed).not.toContain(":pw@");
    expect(printed).toContain("db:5432");
    expect(config.database_url).toContain("hunter2");
  });
});

describe("binding safety", () => {
  it("refuses a non-loopback bind without auth, saying why", () => {
    const config = loadConfig({ host: "0.0.0.0", dataDir: dir }, {});
    const message = messageOf(() => assertSafeBinding(config));
    expect(message).toMatch(/refusing to listen on 0\.0\.0\.0 without authentication/);
    expect(message).toMatch(/auth\.required/);
  });

  it("allows loopback in open mode and any address with auth", () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "127.1.2.3"]) {
      expect(() => assertSafeBinding(loadConfig({ host, dataDir: dir }, {}))).not.toThrow();
    }
    const path = file("auth.yaml", "auth:\n  required: true\n");
    expect(() =>
      assertSafeBinding(loadConfig({ host: "0.0.0.0", dataDir: dir, configFile: path }, {})),
    ).not.toThrow();
  });
});
