import type { Redis } from "ioredis";
import type { RateLimitsConfig } from "../config/schema.js";
import { FlexibleRateLimiter } from "./flexible-rate-limiter.js";
import type { RateLimiter } from "./rate-limiter.js";

export function createRateLimiter(
  config: RateLimitsConfig,
  options: { redis?: Redis; keyPrefix?: string } = {},
): RateLimiter {
  return new FlexibleRateLimiter(config, options);
}
