import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, type ConfigInput, configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { type RunningServer, type StartOptions, startServer } from "../../src/server.js";

export interface TestServer extends RunningServer {
  config: Config;
  dataDir: string;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

/** Deep-merges plain objects so a test overrides only the keys it cares about. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value !== null && typeof value === "object" && !Array.isArray(value) && prev && typeof prev === "object"
        ? merge(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

export function testConfig(overrides: Partial<ConfigInput> = {}, dataDir?: string): Config {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "aiservice-test-"));
  const base = { data_dir: dir, server: { host: "127.0.0.1", port: 0 }, logging: { level: "silent" } };
  return configSchema.parse(merge(base, overrides as Record<string, unknown>));
}

/** The real server on an ephemeral loopback port with its own SQLite data dir. */
export async function startTestServer(
  overrides: Partial<ConfigInput> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const config = testConfig(overrides);
  const server = await startServer(config, {
    logger: createLogger("silent"),
    processMetrics: false,
    // The developer's own OPENAI_BASE_URL / OLLAMA_HOST must not leak into tests.
    env: {},
    ...options,
  });
  return {
    ...server,
    config,
    dataDir: config.data_dir,
    async stop() {
      await server.close();
      rmSync(config.data_dir, { recursive: true, force: true });
    },
  };
}

/** `fetch` + JSON body in one call; never throws on non-2xx so tests can assert envelopes. */
export async function request(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, { method: init.method ?? "GET", headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
