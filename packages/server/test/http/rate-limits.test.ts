import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { redisAvailable, TEST_REDIS_URL } from "../helpers/redis.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

async function burst(url: string, key: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, () =>
      request(url, "/v1/ai/me", { headers: { authorization: `Bearer ${key}` } }),
    ),
  );
}

describe("rate limits in memory", () => {
  let server: TestServer;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: { required: true }, rate_limits: { authenticated: 50 } });
    key = (await createApiKey(server.services.store.apiKeys, { name: "a", scopes: ["inference"] })).key;
    otherKey = (await createApiKey(server.services.store.apiKeys, { name: "b", scopes: ["inference"] })).key;
  });
  afterAll(() => server.stop());

  it("200 concurrent requests against a limit of 50 admit exactly 50", async () => {
    const responses = await burst(server.url, key, 200);
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(150);

    const refused = responses.find((r) => r.status === 429)!;
    const error = expectErrorEnvelope(refused, 429, "RATE_LIMIT_EXCEEDED");
    expect(error.details).toMatchObject({ limit: 50, window_seconds: 60, category: "authenticated" });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.details.retry_after_seconds).toBe(retryAfter);
    expect(refused.headers.get("ratelimit-limit")).toBe("50");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
  });

  it("admitted responses carry RateLimit headers counting down", async () => {
    const first = await request(server.url, "/v1/ai/me", {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    const second = await request(server.url, "/v1/ai/me", {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    expect(first.headers.get("ratelimit-limit")).toBe("50");
    expect(Number(first.headers.get("ratelimit-remaining"))).toBe(49);
    expect(Number(second.headers.get("ratelimit-remaining"))).toBe(48);
    expect(Number(second.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
  });

  it("budgets are per principal", async () => {
    // `key` is exhausted above; `otherKey` still has budget.
    const res = await request(server.url, "/v1/ai/me", { headers: { authorization: `Bearer ${otherKey}` } });
    expect(res.status).toBe(200);
  });
});

describe.skipIf(!(await redisAvailable()))("rate limits shared through Redis", () => {
  let first: TestServer;
  let second: TestServer;
  let key: string;

  beforeAll(async () => {
    const redisKeyPrefix = `aiservice-test:${randomUUID()}`;
    const overrides = {
      auth: { required: true },
      rate_limits: { authenticated: 50 },
      redis_url: TEST_REDIS_URL,
    };
    first = await startTestServer(overrides, { redisKeyPrefix });
    second = await startTestServer({ ...overrides }, { redisKeyPrefix });
    // Two replicas share the API key table in production (PostgreSQL); here the same key is inserted in both.
    const created = await createApiKey(first.services.store.apiKeys, {
      name: "shared",
      scopes: ["inference"],
    });
    const record = created.record;
    await second.services.store.apiKeys.insert({ ...record });
    key = created.key;
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it("two app instances sharing Redis share one budget", async () => {
    const [a, b] = await Promise.all([burst(first.url, key, 100), burst(second.url, key, 100)]);
    const admitted = [...a, ...b].filter((r) => r.status === 200).length;
    expect(admitted).toBe(50);
  });

  it("what one replica spends, the other no longer has", async () => {
    const created = await createApiKey(first.services.store.apiKeys, { name: "seq", scopes: ["inference"] });
    const { record } = created;
    await second.services.store.apiKeys.insert({ ...record });
    const onFirst = await burst(first.url, created.key, 30);
    expect(onFirst.every((r) => r.status === 200)).toBe(true);
    const onSecond = await burst(second.url, created.key, 40);
    expect(onSecond.filter((r) => r.status === 200)).toHaveLength(20);
    expect(Number(onSecond.find((r) => r.status === 429)?.headers.get("ratelimit-remaining"))).toBe(0);
  });

  it("/readyz checks Redis", async () => {
    const res = await request(first.url, "/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ checks: { store: "ok", redis: "ok" } });
  });
});
