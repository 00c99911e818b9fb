import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from "rate-limiter-flexible";
import type { RateLimitsConfig } from "../config/schema.js";
import {
  RATE_LIMIT_CATEGORIES,
  type RateLimitCategory,
  type RateLimitDecision,
  type RateLimiter,
} from "./rate-limiter.js";

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = "aiservice:rl";
export const DEFAULT_REDIS_TIMEOUT_MS = 500;

export interface FlexibleRateLimiterOptions {
  /**
   * Shared budget across replicas; in-process memory when absent. Any ioredis client works:
   * the limiter never waits for a client that is not `ready` and bounds every call by
   * `redisTimeoutMs`, so the client's offline-queue and retry settings cannot make it hang.
   * The client stays the caller's: `close()` leaves it open.
   */
  redis?: Redis | undefined;
  /** Namespace of the Redis keys, so deployments and tests don't share budgets by accident. */
  keyPrefix?: string | undefined;
  /**
   * How long one Redis call may take before the in-process insurance limiter answers instead.
   * Covers a Redis that still looks connected but no longer replies (paused, partitioned).
   */
  redisTimeoutMs?: number | undefined;
}

interface Outcome {
  category: RateLimitCategory;
  limit: number;
  res: RateLimiterRes;
  allowed: boolean;
}

interface CategoryLimiter {
  limit: number;
  limiter: RateLimiterAbstract;
}

/**
 * Fixed-window counters from rate-limiter-flexible, one limiter per category, keyed by
 * principal. In memory the counters are exact because Node runs one callback at a time; in
 * Redis each consume is one Lua script (`SET NX EX` + `INCRBY` + `PTTL`), atomic on the server,
 * so concurrent callers and replicas never over-admit.
 *
 * A refused request still counts against the other categories it asked for (they are consumed
 * in parallel, as rate-limiter-flexible's own union does): hammering a refused route also
 * spends the general budget, and no refund can race with concurrent admissions.
 */
export class FlexibleRateLimiter implements RateLimiter {
  private readonly categories: Record<RateLimitCategory, CategoryLimiter>;
  private readonly windowSeconds: number;

  constructor(config: RateLimitsConfig, options: FlexibleRateLimiterOptions = {}) {
    this.windowSeconds = config.window_seconds;
    const prefix = options.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
    const build = (category: RateLimitCategory): CategoryLimiter => {
      const limit = config[category];
      const base = { points: limit, duration: config.window_seconds, keyPrefix: `${prefix}:${category}` };
      if (options.redis === undefined) return { limit, limiter: new RateLimiterMemory(base) };
      // Redis down, failing or silent: answer from a per-process limiter with the same limits,
      // so requests stay limited (per replica) instead of failing or hanging.
      const redisLimiter = new RateLimiterRedis({
        ...base,
        storeClient: options.redis,
        // ioredis is the library's default client; `useRedisPackage` is only for node-redis.
        // Not ready (connecting, reconnecting, ended): fail at once rather than wait in
        // ioredis's offline queue or through its retries.
        rejectIfRedisNotReady: true,
      });
      // Ready but silent (paused, partitioned, blackholed): only a timeout notices. The
      // insurance sits on this outer wrapper alone, so a call that times out and later fails
      // is not counted twice; one whose Redis reply comes late is counted in both, which errs
      // towards refusing.
      const limiter = new RLWrapperTimeouts({
        limiter: redisLimiter,
        timeoutMs: options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
        insuranceLimiter: new RateLimiterMemory(base),
      });
      return { limit, limiter };
    };
    this.categories = Object.fromEntries(RATE_LIMIT_CATEGORIES.map((c) => [c, build(c)])) as Record<
      RateLimitCategory,
      CategoryLimiter
    >;
  }

  async consume(principalId: string, categories: readonly RateLimitCategory[]): Promise<RateLimitDecision> {
    if (categories.length === 0) throw new RangeError("consume needs at least one rate-limit category");
    // A category named twice must not cost two points.
    const unique = categories.length === 1 ? categories : [...new Set(categories)];
    const outcomes = await Promise.all(unique.map((category) => this.consumeOne(principalId, category)));
    const refused = outcomes.find((o) => !o.allowed);
    const deciding =
      refused ??
      outcomes.reduce((tightest, o) => (o.res.remainingPoints < tightest.res.remainingPoints ? o : tightest));
    return {
      allowed: refused === undefined,
      limit: deciding.limit,
      remaining: Math.max(0, deciding.res.remainingPoints),
      // msBeforeNext is the key's remaining TTL (PTTL in Redis, expiry minus now in memory);
      // rounding up keeps a client that waits exactly this long from being refused again.
      resetSeconds: Math.max(1, Math.ceil(deciding.res.msBeforeNext / 1000)),
      windowSeconds: this.windowSeconds,
      category: deciding.category,
    };
  }

  /** One category's counter. A refusal is an outcome; anything else is a failure that must surface. */
  private consumeOne(principalId: string, category: RateLimitCategory): Promise<Outcome> {
    const { limit, limiter } = this.categories[category];
    // rate-limiter-flexible rejects a refusal with the counter state. Plain callbacks rather than
    // an async closure: one promise less on every authenticated request.
    return limiter.consume(principalId, 1).then(
      (res) => ({ category, limit, res, allowed: true }),
      (err: unknown) => {
        if (err instanceof RateLimiterRes) return { category, limit, res: err, allowed: false };
        throw err;
      },
    );
  }

  async close(): Promise<void> {
    // Nothing owned: the Redis client belongs to the caller, and the memory counters' expiry
    // timers are unref'd by rate-limiter-flexible, so they never hold the process open.
  }
}
