import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { RateLimitsConfig } from "../config/schema.js";
import {
  RATE_LIMIT_CATEGORIES,
  type RateLimitCategory,
  type RateLimitDecision,
  type RateLimiter,
} from "./rate-limiter.js";

export interface FlexibleRateLimiterOptions {
  /** Shared budget across replicas; in-process memory when absent. */
  redis?: Redis | undefined;
  /** Namespace of the Redis keys, so deployments and tests don't share budgets by accident. */
  keyPrefix?: string | undefined;
}

/**
 * Fixed-window counters from rate-limiter-flexible, one limiter per category. In memory the
 * counters are exact because Node runs one callback at a time; in Redis each consume is a
 * single atomic `SET NX` + `INCR` + `PTTL` transaction, so concurrent replicas never
 * over-admit.
 */
export class FlexibleRateLimiter implements RateLimiter {
  private readonly limiters: Record<RateLimitCategory, RateLimiterAbstract>;
  private readonly windowSeconds: number;

  constructor(config: RateLimitsConfig, options: FlexibleRateLimiterOptions = {}) {
    this.windowSeconds = config.window_seconds;
    const prefix = options.keyPrefix ?? "aiservice:rl";
    const build = (category: RateLimitCategory): RateLimiterAbstract => {
      const base = {
        points: config[category],
        duration: config.window_seconds,
        keyPrefix: `${prefix}:${category}`,
      };
      if (options.redis === undefined) return new RateLimiterMemory(base);
      return new RateLimiterRedis({
        ...base,
        storeClient: options.redis,
        // With Redis away, answer at once from a per-process limiter with the same limits:
        // requests stay limited (per replica) instead of failing or hanging.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(base),
      });
    };
    this.limiters = Object.fromEntries(RATE_LIMIT_CATEGORIES.map((c) => [c, build(c)])) as Record<
      RateLimitCategory,
      RateLimiterAbstract
    >;
  }

  async consume(principalId: string, categories: readonly RateLimitCategory[]): Promise<RateLimitDecision> {
    const outcomes = await Promise.all(
      categories.map(async (category) => {
        const limiter = this.limiters[category];
        try {
          return { category, limiter, res: await limiter.consume(principalId, 1), allowed: true };
        } catch (err) {
          // A refusal rejects with the counter state; anything else is a store failure.
          if (err instanceof RateLimiterRes) return { category, limiter, res: err, allowed: false };
          throw err;
        }
      }),
    );
    const refused = outcomes.find((o) => !o.allowed);
    const deciding =
      refused ??
      outcomes.reduce((tightest, o) => (o.res.remainingPoints < tightest.res.remainingPoints ? o : tightest));
    return {
      allowed: refused === undefined,
      limit: deciding.limiter.points,
      remaining: Math.max(0, deciding.res.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(deciding.res.msBeforeNext / 1000)),
      windowSeconds: this.windowSeconds,
      category: deciding.category,
    };
  }

  async close(): Promise<void> {
    // Nothing owned: the Redis client belongs to the caller, memory counters need no cleanup.
  }
}
