import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { CompletionCache } from "../../src/inference/completion/completion-cache.js";
import type {
  CompletionRequest,
  CompletionResponse,
} from "../../src/inference/completion/completion-schemas.js";
import { createLogger } from "../../src/observability/logger.js";
import { redisAvailable, startRedisProxy, TEST_REDIS_URL, uniqueRedisPrefix } from "../helpers/redis.js";
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
      models: [
        {
          id: "coder",
          provider: "openai-compatible",
          base_url: `${upstream.url}/v1`,
          fim: true,
          max_retries: 0,
        },
      ],
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

  it("a streamed request is served from the cache too: the stored text as one delta, then done", async () => {
    const first = await complete(server, headers, body({ temperature: 0, max_tokens: 23 }));
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body({ temperature: 0, max_tokens: 23 }, { stream: true })),
    });
    const events = [...(await res.text()).matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2] ?? "null") as unknown,
    }));
    expect(events.map((e) => e.event)).toEqual(["delta", "done"]);
    expect(events[0]?.data).toEqual({ text: first.completion.text });
    expect((events[1]?.data as Completion).completion.metadata.cache_hit).toBe(true);
    expect(upstream.requestsTo("completions")).toHaveLength(1);
  });

  it("a streamed miss fills the cache for the next request", async () => {
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body({ temperature: 0, max_tokens: 24 }, { stream: true })),
    });
    expect(await res.text()).toContain("event: done");
    const second = await complete(server, headers, body({ temperature: 0, max_tokens: 24 }));
    expect(second.completion.metadata.cache_hit).toBe(true);
    expect(upstream.requestsTo("completions")).toHaveLength(1);
  });

  it("a failed generation is not cached", async () => {
    upstream.reset();
    upstream.script("completions", { status: 500, errorMessage: "boom" });
    upstream.always("completions", { reply: "return n;" });
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body({ temperature: 0, max_tokens: 25 }),
    });
    expect(res.status).toBe(502);
    const next = await complete(server, headers, body({ temperature: 0, max_tokens: 25 }));
    expect(next.completion.metadata.cache_hit).toBe(false);
  });

  it("cache hits are counted as requests of the model", async () => {
    await complete(server, headers, body({ temperature: 0, max_tokens: 22 }));
    await complete(server, headers, body({ temperature: 0, max_tokens: 22 }));
    // Requests are added to the store together, per model and minute.
    await server.services.store.models.flush();
    const rows = await server.services.store.db
      .selectFrom("model_request_rollups")
      .select(["cache_hit_count"])
      .where("model_id", "=", "coder")
      .execute();
    expect(rows.reduce((sum, r) => sum + Number(r.cache_hit_count), 0)).toBeGreaterThanOrEqual(1);
  });
});

describe("CompletionCache in memory", () => {
  const request = (cursor: number, extra: Partial<CompletionRequest> = {}): CompletionRequest => ({
    model_id: "m",
    context: { language: "python", code: "def f():\n    pass\n", cursor_position: cursor },
    parameters: { temperature: 0 },
    ...extra,
  });
  const response = (text: string): CompletionResponse => ({
    completion: {
      text,
      confidence: null,
      metadata: { model_used: "m", tokens_used: 1, processing_time_ms: 1, cache_hit: false },
    },
    suggestions: [],
  });
  const cache = (bounds: { maxEntries?: number; maxBytes?: number }) =>
    new CompletionCache({ registry: new Registry(), logger: createLogger("silent"), ...bounds });

  it("keys on what changes the answer, not on delivery options", () => {
    expect(CompletionCache.keyOf(request(3))).not.toBe(CompletionCache.keyOf(request(4)));
    expect(CompletionCache.keyOf(request(3))).toBe(
      CompletionCache.keyOf(request(3, { options: { stream: true, async: false, cache: true } })),
    );
    expect(CompletionCache.keyOf(request(3))).not.toBe(
      CompletionCache.keyOf(request(3, { parameters: { temperature: 0, stop_sequences: ["\n"] } })),
    );
    const withPath = request(3);
    withPath.context.file_path = "a.py";
    expect(CompletionCache.keyOf(withPath)).not.toBe(CompletionCache.keyOf(request(3)));
  });

  it("is bounded in entries, least recently used out first", async () => {
    const lru = cache({ maxEntries: 2 });
    await lru.set("a", response("A"));
    await lru.set("b", response("B"));
    await lru.get("a");
    await lru.set("c", response("C"));
    expect(await lru.get("b")).toBeUndefined();
    expect((await lru.get("a"))?.completion.text).toBe("A");
    expect(lru.size.entries).toBe(2);
  });

  it("is bounded in bytes", async () => {
    const lru = cache({ maxBytes: 4_000 });
    for (let i = 0; i < 10; i++) await lru.set(`k${i}`, response("x".repeat(500)));
    expect(lru.size.bytes).toBeLessThanOrEqual(4_000);
    expect(lru.size.entries).toBeLessThan(10);
    expect(await lru.get("k0")).toBeUndefined();
    expect(await lru.get("k9")).toBeDefined();
  });
});

describe.skipIf(!(await redisAvailable()))("completion cache in Redis", () => {
  it("a Redis that stops answering is a miss, not a hung request", async () => {
    const proxy = await startRedisProxy();
    const { server, headers } = await serverWith({ redis_url: proxy.url }, uniqueRedisPrefix("cache"));
    try {
      proxy.freeze();
      const started = Date.now();
      const res = await complete(server, headers, body({ temperature: 0, max_tokens: 31 }));
      expect(res.completion.metadata.cache_hit).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      // Before the server: its shutdown waits for Redis to acknowledge QUIT.
      await proxy.close();
      await server.stop();
    }
  });

  it("replicas sharing Redis share the cache, under the key prefix and with a TTL", async () => {
    const prefix = `aiservice-test:${randomUUID()}`;
    const a = await serverWith({ redis_url: TEST_REDIS_URL }, prefix);
    const b = await serverWith({ redis_url: TEST_REDIS_URL }, prefix);
    try {
      const first = await complete(a.server, a.headers, body({ temperature: 0, max_tokens: 30 }));
      const second = await complete(b.server, b.headers, body({ temperature: 0, max_tokens: 30 }));
      expect(first.completion.metadata.cache_hit).toBe(false);
      expect(second.completion.metadata.cache_hit).toBe(true);
      expect(upstream.requestsTo("completions")).toHaveLength(1);
      const keys = (await a.server.services.redis?.keys(`${prefix}:cache:completion:*`)) ?? [];
      expect(keys).toHaveLength(1);
      const ttl = await a.server.services.redis?.ttl(keys[0] ?? "");
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600);
    } finally {
      await a.server.services.redis?.del(...(await a.server.services.redis.keys(`${prefix}:*`)), "none");
      await a.server.stop();
      await b.server.stop();
    }
  });
});
