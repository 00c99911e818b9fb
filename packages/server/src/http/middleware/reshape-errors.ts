/**
 * Some clients read errors in their own shape (OpenAI's SDK on /v1/chat…, the codeflash client
 * on /ai/*). Errors are still thrown as ApiErrors and rendered by the one global handler; this
 * route middleware then re-renders that envelope, so every failure on those paths (validation,
 * auth, rate limits, 404/405, model errors) changes shape alike, keeping status and headers.
 */
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorDetails } from "../../errors.js";
import type { AppEnv } from "../context.js";

export interface EnvelopeError {
  code: string;
  message: string;
  details: ErrorDetails;
  request_id: string;
}

function envelopeError(value: unknown): EnvelopeError | undefined {
  if (value === null || typeof value !== "object" || !("error" in value)) return undefined;
  const error = value.error;
  if (
    error !== null &&
    typeof error === "object" &&
    "code" in error &&
    typeof error.code === "string" &&
    "message" in error &&
    typeof error.message === "string" &&
    "details" in error
  ) {
    return error as EnvelopeError;
  }
  return undefined;
}

export function reshapeErrors(
  render: (status: number, error: EnvelopeError) => object,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    if (status < 400 || !c.res.headers.get("content-type")?.startsWith("application/json")) return;
    let body: unknown;
    try {
      body = await c.res.clone().json();
    } catch {
      return;
    }
    const error = envelopeError(body);
    if (error === undefined) return;
    c.res = c.json(render(status, error), status as ContentfulStatusCode);
  };
}
