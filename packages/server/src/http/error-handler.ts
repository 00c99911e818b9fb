import type { Context } from "hono";
import { ApiError } from "../errors.js";
import type { AppEnv } from "./context.js";
import { renderError, toApiError } from "./error-envelope.js";

/**
 * Hono `onError`: typed errors become their envelope; anything else is a bug and becomes a
 * 500 whose body says nothing about internals while the log keeps the whole stack.
 */
export function handleError(err: Error, c: Context<AppEnv>): Response {
  const apiError = toApiError(err);
  if (apiError !== undefined) {
    if (apiError.status >= 500)
      c.get("logger")?.error({ err, request_id: c.get("requestId") }, apiError.message);
    return renderError(c, apiError);
  }
  (c.get("logger") ?? console).error({ err, request_id: c.get("requestId") }, "unhandled error");
  return renderError(
    c,
    new ApiError("INTERNAL_ERROR", "internal error; the server log has the details under this request id"),
  );
}
