import { tmpdir } from "node:os";
import OpenAI, { type ClientOptions } from "openai";
import { createApiKey } from "../../src/auth/api-key-service.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { createProvider } from "../../src/engine/create-provider.js";
import type { ModelEntry } from "../../src/engine/model-config.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { LocalProvider } from "./local-provider.js";

/** The model name the scripted upstream serves; our id for it is `remote`. */
export const UPSTREAM_MODEL = "scripted-model";

export interface OpenAIFixture {
  server: TestServer;
  upstream: ScriptedUpstream;
  /** `local`: a translated (non-passthrough) model with FIM. */
  local: LocalProvider;
  /** `plain`: a translated model without FIM. */
  plain: LocalProvider;
  /** An API key with the `inference` scope. */
  key: string;
  /** The official client pointed at the server; no retries, so every failure shows at once. */
  client(options?: ClientOptions): OpenAI;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  config?: Partial<ConfigInput>;
  /** Extra model entries (e.g. a real llama.cpp model). */
  models?: ModelEntry[];
}

/**
 * The real server with auth required, the OpenAI routes registered, and three models: `remote`
 * (openai-compatible, served by a scripted upstream: the passthrough path), `local` and `plain`
 * (test providers without passthrough: the translated path).
 */
export async function startOpenAIFixture(options: FixtureOptions = {}): Promise<OpenAIFixture> {
  const upstream = await startScriptedUpstream({ models: [UPSTREAM_MODEL] });
  const local = new LocalProvider({ fim: true });
  const plain = new LocalProvider({ fim: false });
  const server = await startTestServer(
    {
      auth: { required: true },
      ...options.config,
      models: [
        {
          id: "remote",
          provider: "openai-compatible",
          base_url: upstream.url,
          model: UPSTREAM_MODEL,
          fim: true,
          max_retries: 0,
          connect_timeout_ms: 2_000,
          read_timeout_ms: 600,
        },
        { id: "local", provider: "llama-cpp", source: "/unused/local.gguf" },
        { id: "plain", provider: "llama-cpp", source: "/unused/plain.gguf" },
        ...(options.models ?? []),
      ],
    },
    {
      createProvider: (entry) =>
        entry.id === "local"
          ? local
          : entry.id === "plain"
            ? plain
            : createProvider(entry, { dataDir: tmpdir() }),
    },
  );
  const { key } = await createApiKey(server.services.store.apiKeys, { name: "ide", scopes: ["inference"] });
  return {
    server,
    upstream,
    local,
    plain,
    key,
    client: (clientOptions = {}) =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0, ...clientOptions }),
    async stop() {
      await server.stop();
      await upstream.close();
    },
  };
}

/** Raw HTTP to the server with the fixture's key, for what the client hides (bytes, headers). */
export function post(fixture: OpenAIFixture, path: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${fixture.server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${fixture.key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });
}

/** Reads a chat stream to its end or failure: the delta texts received, and the error if any. */
export async function drainChatStream(
  stream: AsyncIterable<{ choices: { delta: { content?: string | null } }[] }>,
): Promise<{ received: string[]; failure: unknown }> {
  const received: string[] = [];
  try {
    for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
    return { received, failure: undefined };
  } catch (failure) {
    return { received, failure };
  }
}
