/**
 * OpenAI's error shape on the OpenAI-compatible routes: `{"error": {message, type, param, code}}`
 * with the same HTTP status and headers our envelope would have had. Errors are still thrown as
 * ApiErrors and rendered by the one global handler; a middleware scoped to these routes then
 * re-renders the envelope, so nothing else changes and every failure (validation, auth, rate
 * limits, 404/405, model errors) gets the same treatment.
 */
import type { MiddlewareHandler } from "hono";
import { ApiError, type ErrorDetails } from "../errors.js";
import type { AppEnv } from "../http/context.js";
import { toApiError } from "../http/error-envelope.js";
import { reshapeErrors } from "../http/middleware/reshape-errors.js";
import type { OpenAIErrorBody } from "./schemas.js";

/** Our codes that have a well-known OpenAI name; the others are lower-cased. */
const OPENAI_CODES: Partial<Record<string, string>> = {
  UNAUTHORIZED: "invalid_api_key",
  FORBIDDEN: "insufficient_permissions",
  MODEL_NOT_FOUND: "model_not_found",
};

function errorType(status: number): string {
  // OpenAI's own 429s say `"type": "requests"` (or "tokens"), with code rate_limit_exceeded.
  if (status === 429) return "requests";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/** The offending field: said by the error itself, else the first validation issue's path. */
function paramOf(code: string, details: ErrorDetails): string | null {
  if (typeof details.param === "string") return details.param;
  if (code === "MODEL_NOT_FOUND") return "model";
  const issues = details.issues;
  if (Array.isArray(issues)) {
    const first: unknown = issues[0];
    if (first !== null && typeof first === "object" && "path" in first && typeof first.path === "string") {
      return first.path === "(root)" ? null : first.path;
    }
  }
  return null;
}

export function openAIErrorBody(
  status: number,
  code: string,
  message: string,
  details: ErrorDetails,
): OpenAIErrorBody {
  const suggestion = typeof details.suggestion === "string" ? ` ${details.suggestion}.` : "";
  return {
    error: {
      message: `${message}${message.endsWith(".") || suggestion === "" ? "" : "."}${suggestion}`,
      type: errorType(status),
      param: paramOf(code, details),
      code: OPENAI_CODES[code] ?? code.toLowerCase(),
    },
  };
}

/** For failures that happen after a stream started and must travel inside it. */
export function openAIErrorFor(err: unknown): OpenAIErrorBody {
  const apiError =
    toApiError(err) ?? new ApiError("INTERNAL_ERROR", "internal error; the server log has the details");
  return openAIErrorBody(apiError.status, apiError.code, apiError.message, apiError.details);
}

/**
 * The answer to a request whose client went away: nobody reads it, but the access log and the
 * HTTP metrics then say what happened (nginx's "client closed request").
 */
export function clientClosed(): Response {
  return new Response(null, { status: 499 });
}

/**
 * Route middleware: whatever error envelope the rest of the chain produced for these paths is
 * answered in OpenAI's shape instead (same status, headers such as Retry-After kept).
 */
export function openAIErrorShape(): MiddlewareHandler<AppEnv> {
  return reshapeErrors((status, error) => openAIErrorBody(status, error.code, error.message, error.details));
}
