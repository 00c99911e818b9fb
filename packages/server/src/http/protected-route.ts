import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import { errorEnvelopeSchema } from "./error-envelope.js";
import { type GuardOptions, guard } from "./middleware/guard.js";
import type { AppServices } from "./services.js";

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: errorEnvelopeSchema } },
});

/** Failures every authenticated route can answer with, documented once. */
export const STANDARD_ERROR_RESPONSES = {
  400: errorResponse("Invalid request (details.issues lists each problem)"),
  401: errorResponse("Missing or invalid credentials"),
  403: errorResponse("Authenticated, but lacking the route's scope"),
  413: errorResponse("Request body too large"),
  429: errorResponse("Rate limit exceeded (Retry-After says when to retry)"),
  500: errorResponse("Internal error"),
} as const;

export const SECURITY: RouteConfig["security"] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

/**
 * A route under /v1/ai or /ai: documented security, the shared error responses, and the
 * guard (scope + rate limit) attached as route middleware so it can't be forgotten.
 */
export function protectedRoute<const R extends RouteConfig>(
  services: Pick<AppServices, "rateLimiter" | "metrics">,
  access: GuardOptions,
  route: R,
) {
  return createRoute({
    ...route,
    security: SECURITY,
    middleware: [guard(services, access)],
    responses: { ...STANDARD_ERROR_RESPONSES, ...route.responses },
  });
}

export { errorResponse };
