import { randomFillSync } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.js";
import { setResponseHeader } from "../response-headers.js";

/** A client's id is kept when it is short and plain; anything else could poison logs. */
const ACCEPTABLE_ID = /^[\w\-=]{1,128}$/;

const ID_BYTES = 16;
/** Random bytes for 256 ids, refilled when used up: one call into the RNG per 256 requests. */
const pool = Buffer.alloc(ID_BYTES * 256);
let poolOffset = pool.length;

function randomHex(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString("hex", poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return hex;
}

/** `X-Request-Id` in and out: echoed when well-formed, else `req_<32 hex>`. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming !== undefined && ACCEPTABLE_ID.test(incoming) ? incoming : `req_${randomHex()}`;
    c.set("requestId", id);
    setResponseHeader(c, "X-Request-Id", id);
    await next();
  };
}
