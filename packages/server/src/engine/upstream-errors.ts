import { ApiError } from "../errors.js";

/**
 * Typed upstream failures. Providers throw only these (or ApiError for our own limits), so a
 * broken model server always becomes a clear envelope and never an unhandled rejection.
 */
export function upstreamError(
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): ApiError {
  return new ApiError("UPSTREAM_ERROR", message, { details, cause });
}

export function upstreamTimeout(
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): ApiError {
  return new ApiError("UPSTREAM_TIMEOUT", message, { details, cause });
}

export function upstreamRateLimited(
  retryAfterSeconds: number | undefined,
  details: Record<string, unknown> = {},
): ApiError {
  return new ApiError("RATE_LIMIT_EXCEEDED", "the model provider is rate limiting requests", {
    details: {
      ...details,
      upstream: true,
      ...(retryAfterSeconds === undefined ? {} : { retry_after_seconds: retryAfterSeconds }),
    },
    headers: retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) },
  });
}

/** Cancelled by our caller (client disconnected): not an upstream fault. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "APIUserAbortError");
}
