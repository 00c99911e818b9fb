/**
 * Rate-limit categories of spec/ai-api.md "Rate Limits". Every authenticated request counts
 * against `authenticated`; routes of a category count against that category as well.
 */
export const RATE_LIMIT_CATEGORIES = [
  "authenticated",
  "inference",
  "models",
  "batch",
  "optimization",
] as const;
export type RateLimitCategory = (typeof RATE_LIMIT_CATEGORIES)[number];

export interface RateLimitDecision {
  allowed: boolean;
  /** The limit of the most constraining category checked. */
  limit: number;
  remaining: number;
  /** Seconds until the window of that category resets (>= 1 when not allowed). */
  resetSeconds: number;
  windowSeconds: number;
  /** The category that decided (the one that refused, or the tightest one). */
  category: RateLimitCategory;
}

export interface RateLimiter {
  /**
   * Consumes one request for `principalId` in each of `categories`, atomically per category,
   * so that N concurrent callers against a limit of L admit exactly min(N, L).
   */
  consume(principalId: string, categories: readonly RateLimitCategory[]): Promise<RateLimitDecision>;
  close(): Promise<void>;
}
