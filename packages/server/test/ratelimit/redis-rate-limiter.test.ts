import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema, type RateLimitsConfig } from "../../src/config/schema.js";
import { createRateLimiter } from "../../src/ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "../../src/ratelimit/rate-limiter.js";
import {
  type RedisProxy,
  redisAvailable,
  startRedisProxy,
  TEST_REDIS_URL,
  uniqueRedisPrefix,
} from "../helpers/redis.js";

const limits = (overrides: Partial<RateLimitsConfig> = {}): RateLimitsConfig =>
  configSchema.shape.rate_limits.parse(overrides);

async function admitted(limiter: RateLimiter, principal: string, count: number): Promise<number> {
  const decisions = await Promise.all(
    Array.from({ length: count }, () => limiter.consume(principal, ["authenticated"])),
  );
  return decisions.filter((d) => d.allowed).length;
}

/** The options a Redis that is gone should be met with: fail fast, never queue. */
const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };

describe.skipIf(!(await redisAvailable()))("rate limiter in Redis", () => {
  const runPrefix = uniqueRedisPrefix("ratelimit");
  let testCount = 0;
  // Each test its own budget, under one prefix for the whole run.
  const keyPrefix = () => `${runPrefix}:${++testCount}`;

  const clients: Redis[] = [];
  const proxies: RedisProxy[] = [];
  const client = (url = TEST_REDIS_URL, options: RedisOptions = {}): Redis => {
    const redis = new Redis(url, { ...failFast, ...options });
    // Connection errors are the point of some tests; unhandled, ioredis would log each one.
    redis.on("error", () => {});
    clients.push(redis);
    return redis;
  };
  const ready = async (...redis: Redis[]) => {
    await Promise.all(redis.map((r) => (r.status === "ready" ? undefined : once(r, "ready"))));
  };

  afterAll(async () => {
    const [cleanup] = clients;
    if (cleanup?.status === "ready") {
      const keys = await cleanup.keys(`${runPrefix}:*`);
      if (keys.length > 0) await cleanup.del(...keys);
    }
    for (const redis of clients) redis.disconnect();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it("admits exactly the limit of 200 concurrent requests", async () => {
    const redis = client();
    await ready(redis);
    const prefix = keyPrefix();
    const limiter = createRateLimiter(limits({ authenticated: 50 }), { redis, keyPrefix: prefix });
    expect(await admitted(limiter, "alice", 200)).toBe(50);
    const refused = await limiter.consume("alice", ["authenticated"]);
    expect(refused).toMatchObject({ allowed: false, category: "authenticated", limit: 50, remaining: 0 });
    expect(refused.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.resetSeconds).toBeLessThanOrEqual(60);
    // Counted in Redis, not by the insurance limiter: 200 + 1 attempts, refused ones included.
    expect(await redis.get(`${prefix}:authenticated:alice`)).toBe("201");
    await limiter.close();
    // close() leaves the caller's client open.
    expect(await redis.ping()).toBe("PONG");
  });

  it("two limiters with their own clients on one Redis and prefix share one budget", async () => {
    const prefix = keyPrefix();
    const [a, b] = [client(), client()];
    await ready(a, b);
    const first = createRateLimiter(limits({ authenticated: 50 }), { redis: a, keyPrefix: prefix });
    const second = createRateLimiter(limits({ authenticated: 50 }), { redis: b, keyPrefix: prefix });
    const [x, y] = await Promise.all([admitted(first, "alice", 100), admitted(second, "alice", 100)]);
    expect(x + y).toBe(50);
    // What one spends, the other no longer has.
    expect(await admitted(first, "bob", 30)).toBe(30);
    expect(await second.consume("bob", ["authenticated"])).toMatchObject({ allowed: true, remaining: 19 });
  });

  it("keeps budgets apart by key prefix, in keys that expire with the window", async () => {
    const redis = client();
    await ready(redis);
    const [prefixA, prefixB] = [keyPrefix(), keyPrefix()];
    const a = createRateLimiter(limits({ models: 2 }), { redis, keyPrefix: prefixA });
    const b = createRateLimiter(limits({ models: 2 }), { redis, keyPrefix: prefixB });
    await a.consume("p", ["models"]);
    await a.consume("p", ["models"]);
    expect((await a.consume("p", ["models"])).allowed).toBe(false);
    expect((await b.consume("p", ["models"])).allowed).toBe(true);
    const ttl = await redis.pttl(`${prefixA}:models:p`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("opens again once the window has passed", async () => {
    const redis = client();
    await ready(redis);
    const limiter = createRateLimiter(limits({ window_seconds: 1, inference: 1 }), {
      redis,
      keyPrefix: keyPrefix(),
    });
    expect((await limiter.consume("p", ["inference"])).allowed).toBe(true);
    expect(await limiter.consume("p", ["inference"])).toMatchObject({ allowed: false, resetSeconds: 1 });
    await sleep(1_100);
    expect((await limiter.consume("p", ["inference"])).allowed).toBe(true);
  });

  it("with Redis unreachable, answers quickly and still limits, from the insurance limiter", async () => {
    const dead = client("redis://127.0.0.1:1", { lazyConnect: true, retryStrategy: () => null });
    dead.connect().catch(() => {});
    const limiter = createRateLimiter(limits({ authenticated: 3 }), { redis: dead, keyPrefix: keyPrefix() });
    const started = performance.now();
    expect(await admitted(limiter, "p", 5)).toBe(3);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("does not hang on a client with ioredis defaults that keeps reconnecting", async () => {
    // Offline queue on, 20 retries per request: the limiter must not wait for any of it.
    const dead = client("redis://127.0.0.1:1", { enableOfflineQueue: true, maxRetriesPerRequest: 20 });
    // A long timeout, so that only the readiness check can make this fast.
    const limiter = createRateLimiter(limits({ authenticated: 3 }), {
      redis: dead,
      keyPrefix: keyPrefix(),
      redisTimeoutMs: 5_000,
    });
    const started = performance.now();
    expect(await admitted(limiter, "p", 5)).toBe(3);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("when a connected Redis goes silent, times out to the insurance limiter", async () => {
    const proxy = await startRedisProxy();
    proxies.push(proxy);
    const redis = client(proxy.url);
    await ready(redis);
    const limiter = createRateLimiter(limits({ authenticated: 3 }), {
      redis,
      keyPrefix: keyPrefix(),
      redisTimeoutMs: 200,
    });
    expect((await limiter.consume("p", ["authenticated"])).remaining).toBe(2);
    proxy.freeze();
    const started = performance.now();
    // The insurance counter starts afresh: per process, it knows nothing of Redis's count.
    expect(await admitted(limiter, "p", 5)).toBe(3);
    expect(redis.status).toBe("ready");
    expect(performance.now() - started).toBeLessThan(2_000);

    // A call that timed out and whose Redis command then fails is counted by insurance once.
    expect(await limiter.consume("q", ["authenticated"])).toMatchObject({ allowed: true, remaining: 2 });
    const closed = once(redis, "close");
    await proxy.close();
    await closed;
    expect(await limiter.consume("q", ["authenticated"])).toMatchObject({ allowed: true, remaining: 1 });
  });
});
