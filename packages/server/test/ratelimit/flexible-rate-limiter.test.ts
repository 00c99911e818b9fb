import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { FlexibleRateLimiter } from "../../src/ratelimit/flexible-rate-limiter.js";
import { rateLimitHeaders } from "../../src/ratelimit/rate-limit-headers.js";
import { redisAvailable, TEST_REDIS_URL } from "../helpers/redis.js";

const limits = (overrides: Record<string, number>) =>
  configSchema.shape.rate_limits.parse({
    authenticated: 1000,
    inference: 100,
    models: 50,
    batch: 10,
    ...overrides,
  });

async function admitted(
  limiter: FlexibleRateLimiter,
  principal: string,
  count: number,
  categories = ["authenticated"] as const,
) {
  const decisions = await Promise.all(
    Array.from({ length: count }, () => limiter.consume(principal, categories)),
  );
  return decisions.filter((d) => d.allowed).length;
}

describe("in memory", () => {
  it("is exact under concurrency and per principal", async () => {
    const limiter = new FlexibleRateLimiter(limits({ authenticated: 50 }));
    expect(await admitted(limiter, "alice", 200)).toBe(50);
    expect(await admitted(limiter, "bob", 10)).toBe(10);
  });

  it("a category refuses while `authenticated` still has budget, and says so", async () => {
    const limiter = new FlexibleRateLimiter(limits({ batch: 2 }));
    const both = ["authenticated", "batch"] as const;
    const first = await limiter.consume("p", both);
    expect(first).toMatchObject({ allowed: true, category: "batch", limit: 2, remaining: 1 });
    await limiter.consume("p", both);
    const third = await limiter.consume("p", both);
    expect(third).toMatchObject({
      allowed: false,
      category: "batch",
      limit: 2,
      remaining: 0,
      windowSeconds: 60,
    });
    expect(third.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(third.resetSeconds).toBeLessThanOrEqual(60);
    expect(rateLimitHeaders(third)).toEqual({
      "RateLimit-Limit": "2",
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": String(third.resetSeconds),
      "Retry-After": String(third.resetSeconds),
    });
    // The plain category is unaffected by the batch refusal.
    expect((await limiter.consume("p", ["authenticated"])).allowed).toBe(true);
  });

  it("opens again after the window", async () => {
    const limiter = new FlexibleRateLimiter(limits({ window_seconds: 1, inference: 1 }));
    expect((await limiter.consume("p", ["inference"])).allowed).toBe(true);
    expect((await limiter.consume("p", ["inference"])).allowed).toBe(false);
    await sleep(1_100);
    expect((await limiter.consume("p", ["inference"])).allowed).toBe(true);
  });
});

describe.skipIf(!(await redisAvailable()))("in Redis", () => {
  const clients: Redis[] = [];
  const client = (url = TEST_REDIS_URL, extra: Record<string, unknown> = {}) => {
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...extra });
    redis.on("error", () => {});
    clients.push(redis);
    return redis;
  };
  afterAll(() => {
    for (const redis of clients) redis.disconnect();
  });

  const ready = async (redis: Redis) => {
    if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  };

  it("two limiters on one Redis share one exact budget", async () => {
    const keyPrefix = `aiservice-test:${randomUUID()}`;
    const [a, b] = [client(), client()];
    await Promise.all([ready(a), ready(b)]);
    const first = new FlexibleRateLimiter(limits({ authenticated: 50 }), { redis: a, keyPrefix });
    const second = new FlexibleRateLimiter(limits({ authenticated: 50 }), { redis: b, keyPrefix });
    const [x, y] = await Promise.all([admitted(first, "alice", 100), admitted(second, "alice", 100)]);
    expect(x + y).toBe(50);
  });

  it("with Redis unreachable, answers quickly from the in-process insurance limiter", async () => {
    const dead = client("redis://127.0.0.1:1", { lazyConnect: true, retryStrategy: () => null });
    dead.connect().catch(() => {});
    const limiter = new FlexibleRateLimiter(limits({ authenticated: 3 }), { redis: dead, keyPrefix: "dead" });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => limiter.consume("p", ["authenticated"])),
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(results.filter((r) => r.allowed)).toHaveLength(3);
  });
});
