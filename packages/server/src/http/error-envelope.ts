/**
 * The one error envelope of spec/ai-api.md: every non-2xx body on /v1/ai, /ai and the
 * operations routes is rendered here, so no handler builds an error body by hand.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ErrorCode } from "../errors.js";
import type { AppEnv } from "./context.js";

export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "INVALID_REQUEST" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      timestamp: z.string().openapi({ example: "2025-09-16T15:57:31Z" }),
      request_id: z.string(),
    }),
  })
  .openapi("ErrorEnvelope");

export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/** What Hono's own HTTPExceptions (body limit, malformed JSON, media type) mean in our codes. */
const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "INVALID_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMIT_EXCEEDED",
  503: "SERVICE_UNAVAILABLE",
};

/** Maps anything thrown to an ApiError; `undefined` means it is a bug (→ 500). */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[err.status];
    if (code === undefined) return undefined;
    const message =
      code === "PAYLOAD_TOO_LARGE"
        ? "request body is larger than the server accepts"
        : code === "UNSUPPORTED_MEDIA_TYPE"
          ? "unsupported Content-Type: send application/json"
          : err.message || code;
    return new ApiError(code, message, { status: err.status });
  }
  return undefined;
}

export function errorBody(err: ApiError, requestId: string, now = new Date()): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      details: err.details,
      timestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      request_id: requestId,
    },
  };
}

export function renderError(c: Context<AppEnv>, err: ApiError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  const requestId = c.get("requestId") ?? "unknown";
  return c.json(errorBody(err, requestId), err.status as ContentfulStatusCode);
}
