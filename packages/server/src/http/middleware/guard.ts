import type { MiddlewareHandler } from "hono";
import { requireScope } from "../../auth/authenticator.js";
import type { Scope } from "../../auth/principal.js";
import { ApiError } from "../../errors.js";
import { rateLimitHeaders } from "../../ratelimit/rate-limit-headers.js";
import type { RateLimitCategory } from "../../ratelimit/rate-limiter.js";
import { takeBufferedBody } from "../buffered-body.js";
import type { AppEnv } from "../context.js";
import { setResponseHeader } from "../response-headers.js";
import type { AppServices } from "../services.js";

export interface GuardOptions {
  /** Scope the caller needs; undefined means any authenticated caller. */
  scope?: Scope;
  /** Category counted in addition to `authenticated` (spec/ai-api.md "Rate Limits"). */
  rateLimit?: Exclude<RateLimitCategory, "authenticated">;
}

/**
 * Per-route authorization and rate limiting, declared next to each route (see
 * `protectedRoute`). The scope is checked first so a caller without rights does not spend
 * budget; the limiter then consumes one request in every category that applies. An admitted
 * request's body, when it is already here, is then handed to Hono directly (buffered-body.ts).
 */
export function guard(services: Pick<AppServices, "rateLimiter" | "metrics">, options: GuardOptions) {
  const categories: RateLimitCategory[] =
    options.rateLimit === undefined ? ["authenticated"] : ["authenticated", options.rateLimit];
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const principal = c.get("principal");
    if (options.scope !== undefined) requireScope(principal, options.scope);
    const decision = await services.rateLimiter.consume(principal.id, categories);
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) setResponseHeader(c, name, value);
    if (!decision.allowed) {
      services.metrics.rateLimited.inc({ category: decision.category });
      throw new ApiError("RATE_LIMIT_EXCEEDED", `rate limit exceeded for ${decision.category} requests`, {
        details: {
          category: decision.category,
          limit: decision.limit,
          window_seconds: decision.windowSeconds,
          retry_after_seconds: decision.resetSeconds,
        },
      });
    }
    takeBufferedBody(c);
    await next();
  };
  return middleware;
}
