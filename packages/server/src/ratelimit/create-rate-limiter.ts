import type { RateLimitsConfig } from "../config/schema.js";
import { FlexibleRateLimiter, type FlexibleRateLimiterOptions } from "./flexible-rate-limiter.js";
import type { RateLimiter } from "./rate-limiter.js";

/**
 * The server's rate limiter: in process by default; with `redis`, one budget shared by every
 * replica using the same Redis and `keyPrefix`, insured in memory while Redis is away.
 */
export function createRateLimiter(
  config: RateLimitsConfig,
  options: FlexibleRateLimiterOptions = {},
): RateLimiter {
  return new FlexibleRateLimiter(config, options);
}
