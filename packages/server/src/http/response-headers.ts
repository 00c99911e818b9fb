import type { Context } from "hono";
import type { AppEnv } from "./context.js";

/**
 * Sets a response header on Node's own response object when there is one. Hono's `c.header`
 * before the response exists allocates a WHATWG `Headers` (slow validation in undici) and
 * forces the adapter off its fast path; Node merges `setHeader` values into the head it writes
 * anyway. Without a Node response (`app.request()` in tests) it falls back to `c.header`.
 */
export function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  const outgoing = c.env?.outgoing;
  if (outgoing !== undefined && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
