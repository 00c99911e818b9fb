import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.js";
import { setResponseHeader } from "../response-headers.js";

/** A client's id is kept when it is short and plain; anything else could poison logs. */
const ACCEPTABLE_ID = /^[\w\-=]{1,128}$/;

/** `X-Request-Id` in and out: echoed when well-formed, else `req_<32 hex>`. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id =
      incoming !== undefined && ACCEPTABLE_ID.test(incoming)
        ? incoming
        : `req_${randomUUID().replaceAll("-", "")}`;
    c.set("requestId", id);
    setResponseHeader(c, "X-Request-Id", id);
    await next();
  };
}
