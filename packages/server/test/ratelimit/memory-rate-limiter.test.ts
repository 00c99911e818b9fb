import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { configSchema, type RateLimitsConfig } from "../../src/config/schema.js";
import { createRateLimiter } from "../../src/ratelimit/create-rate-limiter.js";
import type { RateLimitCategory, RateLimiter } from "../../src/ratelimit/rate-limiter.js";

const limits = (overrides: Partial<RateLimitsConfig> = {}): RateLimitsConfig =>
  configSchema.shape.rate_limits.parse(overrides);

function burst(
  limiter: RateLimiter,
  principal: string,
  count: number,
  categories: RateLimitCategory[] = ["authenticated"],
) {
  return Promise.all(Array.from({ length: count }, () => limiter.consume(principal, categories)));
}

describe("rate limiter in memory", () => {
  it("admits exactly the limit of 200 concurrent requests, each with its own remaining count", async () => {
    const limiter = createRateLimiter(limits({ authenticated: 50 }));
    const decisions = await burst(limiter, "alice", 200);
    const admitted = decisions.filter((d) => d.allowed);
    expect(admitted).toHaveLength(50);
    // 49..0 each exactly once: no two admissions saw the same counter value.
    expect(admitted.map((d) => d.remaining).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    for (const refused of decisions.filter((d) => !d.allowed)) {
      expect(refused).toMatchObject({
        category: "authenticated",
        limit: 50,
        remaining: 0,
        windowSeconds: 60,
      });
      expect(refused.resetSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.resetSeconds).toBeLessThanOrEqual(60);
    }
  });

  it("keeps one budget per principal", async () => {
    const limiter = createRateLimiter(limits({ authenticated: 50 }));
    expect((await burst(limiter, "alice", 60)).filter((d) => d.allowed)).toHaveLength(50);
    const bob = await burst(limiter, "bob", 200);
    expect(bob.filter((d) => d.allowed)).toHaveLength(50);
    expect((await limiter.consume("carol", ["authenticated"])).remaining).toBe(49);
  });

  it("a category refuses while `authenticated` still has budget, and the decision names it", async () => {
    const limiter = createRateLimiter(limits({ batch: 2 }));
    const both: RateLimitCategory[] = ["authenticated", "batch"];
    expect(await limiter.consume("p", both)).toMatchObject({
      allowed: true,
      category: "batch",
      limit: 2,
      remaining: 1,
    });
    await limiter.consume("p", both);
    const refused = await limiter.consume("p", both);
    expect(refused).toMatchObject({ allowed: false, category: "batch", limit: 2, remaining: 0 });
    expect(refused.resetSeconds).toBeGreaterThanOrEqual(1);
    // Refused by batch, the request still counted against `authenticated` (3 of 1000).
    expect(await limiter.consume("p", ["authenticated"])).toMatchObject({
      allowed: true,
      category: "authenticated",
      limit: 1000,
      remaining: 996,
    });
  });

  it("when all categories admit, reports the one with the fewest points left", async () => {
    const limiter = createRateLimiter(limits({ authenticated: 5, inference: 100 }));
    await burst(limiter, "p", 3);
    // authenticated: 1 left after this one; inference: 99 left.
    expect(await limiter.consume("p", ["inference", "authenticated"])).toMatchObject({
      allowed: true,
      category: "authenticated",
      limit: 5,
      remaining: 1,
    });
  });

  it("opens again once the window has passed", async () => {
    const limiter = createRateLimiter(limits({ window_seconds: 1, inference: 2 }));
    await burst(limiter, "p", 2, ["inference"]);
    const refused = await limiter.consume("p", ["inference"]);
    expect(refused).toMatchObject({ allowed: false, resetSeconds: 1, windowSeconds: 1 });
    await sleep(1_100);
    expect(await limiter.consume("p", ["inference"])).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("charges a category named twice once, and rejects an empty category list", async () => {
    const limiter = createRateLimiter(limits({ models: 3 }));
    expect(await limiter.consume("p", ["models", "models"])).toMatchObject({ remaining: 2 });
    await expect(limiter.consume("p", [])).rejects.toThrow(RangeError);
    await limiter.close();
  });
});
