import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { redisAvailable, TEST_REDIS_URL } from "../helpers/redis.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await startScriptedUpstream({ models: ["coder"] });
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.reset();
  upstream.always("completions", { reply: "return n;" });
});

async function serverWith(overrides: Record<string, unknown> = {}, redisKeyPrefix?: string) {
  const server = await startTestServer(
    {
      auth: { required: true },
      models: [{ id: "coder", provider: "openai-compatible", base_url: `${upstream.url}/v1`, fim: true }],
      ...overrides,
    },
    redisKeyPrefix === undefined ? {} : { redisKeyPrefix },
  );
  const { record, key } = await createApiKey(server.services.store.apiKeys, {
    name: "ide",
    scopes: ["inference"],
  });
  return { server, headers: { authorization: `Bearer ${key}` }, record };
}

const body = (parameters: Record<string, unknown>, options: Record<string, unknown> = {}) => ({
  model_id: "coder",
  context: { language: "rust", code: "fn f(n: u32) -> u32 {\n    \n}", cursor_position: 26 },
  parameters,
  options,
});

type Completion = { completion: { text: string; metadata: { cache_hit: boolean } } };

async function complete(
  server: TestServer,
  headers: Record<string, string>,
  payload: unknown,
): Promise<Completion> {
  const res = await request(server.url, "/v1/ai/inference/completion", {
    method: "POST",
    headers,
    body: payload,
  });
  expect(res.status, res.text).toBe(200);
  return res.body as Completion;
}

describe("completion cache", () => {
  let server: TestServer;
  let headers: Record<string, string>;
  beforeAll(async () => ({ server, headers } = await serverWith()));
  afterAll(() => server.stop());

  it("temperature 0 is cached by default: the second identical request does not reach the model", async () => {
    const first = await complete(server, headers, body({ temperature: 0, max_tokens: 20 }));
    const second = await complete(server, headers, body({ temperature: 0, max_tokens: 20 }));
    expect(first.completion.metadata.cache_hit).toBe(false);
    expect(second.completion.metadata.cache_hit).toBe(true);
    expect(second.completion.text).toBe(first.completion.text);
    expect(upstream.requestsTo("completions")).toHaveLength(1);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/aiservice_completion_cache_lookups_total\{result="hit"\} 1/);
    expect(metrics).toMatch(/aiservice_completion_cache_lookups_total\{result="miss"\} 1/);
  });

  it("a different request, a non-zero temperature or cache:false is not served from the cache", async () => {
    await complete(server, headers, body({ temperature: 0, max_tokens: 21 }));
    await complete(server, headers, body({ temperature: 0.7, max_tokens: 20 }));
    await complete(server, headers, body({ temperature: 0.7, max_tokens: 20 }));
    await complete(server, headers, body({ temperature: 0, max_tokens: 20 }, { cache: false }));
    expect(upstream.requestsTo("completions")).toHaveLength(4);
  });

  it("cache hits are counted as requests of the model", async () => {
    await complete(server, headers, body({ temperature: 0, max_tokens: 22 }));
    await complete(server, headers, body({ temperature: 0, max_tokens: 22 }));
    const rows = await server.services.store.db
      .selectFrom("model_requests")
      .select(["cache_hit"])
      .where("model_id", "=", "coder")
      .execute();
    expect(rows.filter((r) => r.cache_hit === 1).length).toBeGreaterThanOrEqual(1);
  });
});

describe.skipIf(!(await redisAvailable()))("completion cache in Redis", () => {
  it("replicas sharing Redis share the cache", async () => {
    const prefix = `aiservice-test:${randomUUID()}`;
    const a = await serverWith({ redis_url: TEST_REDIS_URL }, prefix);
    const b = await serverWith({ redis_url: TEST_REDIS_URL }, prefix);
    try {
      const first = await complete(a.server, a.headers, body({ temperature: 0, max_tokens: 30 }));
      const second = await complete(b.server, b.headers, body({ temperature: 0, max_tokens: 30 }));
      expect(first.completion.metadata.cache_hit).toBe(false);
      expect(second.completion.metadata.cache_hit).toBe(true);
      expect(upstream.requestsTo("completions")).toHaveLength(1);
    } finally {
      await a.server.services.redis?.del(...(await a.server.services.redis.keys(`${prefix}:*`)), "none");
      await a.server.stop();
      await b.server.stop();
    }
  });
});
