/**
 * HTTP details of the codeflash protocol that differ from /v1/ai: the error body the client
 * reads (`{"error": "<message>"}`, §1) and Python's JSON (§1: `NaN`/`Infinity` may appear).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/context.js";
import { reshapeErrors } from "../http/middleware/reshape-errors.js";

/**
 * Every failure on /ai/* as `{"error": message, "code", "request_id"}`: the client logs
 * `response.json()["error"]` and treats the call as failed, which is what a failure must cause.
 */
export function codeflashErrorShape(): MiddlewareHandler<AppEnv> {
  return reshapeErrors((_, error) => ({
    error: error.message,
    code: error.code,
    request_id: error.request_id,
  }));
}

// A string literal (skipped as a whole) or a bare non-finite number token outside strings.
const NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;

/** Python's `NaN`, `Infinity` and `-Infinity` tokens outside strings replaced by `null`. */
export function relaxPythonJson(text: string): string {
  return text.replace(NON_FINITE, (match, token: string | undefined) =>
    token === undefined ? match : "null",
  );
}

/**
 * Lets route validation read Python's JSON: a body with a bare `NaN` (a speedup map, a
 * runtime) is read with those values as null instead of failing the whole report with a 400.
 * Bodies without such a token are left alone, so they are parsed once, by the validator.
 */
export function pythonJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== "POST" || !/json/i.test(c.req.header("content-type") ?? "")) return next();
    const text = await c.req.text();
    // Hono's c.req.json() parses the cached text, which is what the validator calls.
    // Hono types the cache by value but stores (and awaits) promises.
    if (/NaN|Infinity/.test(text))
      c.req.bodyCache.text = Promise.resolve(relaxPythonJson(text)) as unknown as string;
    return next();
  };
}
