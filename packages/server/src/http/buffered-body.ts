/**
 * A request body that Node has already received in full goes to Hono's body cache as text, so
 * that reading it (the routes' JSON validation) does not wait for the stream's `end` event, which
 * Node emits only after the parser's next callback: on the proxied chat completion that wait was
 * ~20 µs of the latency a request sees at one connection (bench/README.md "gateway-overhead").
 *
 * Only bytes already in memory are taken; a body still arriving is left to the adapter. Called
 * once the caller is authenticated and within its limits, so an anonymous flood of large bodies
 * is not decoded.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context.js";

/** WHATWG `text()` drops a leading byte order mark; Buffer#toString keeps it. */
const BOM = "\uFEFF";

export function takeBufferedBody(c: Context<AppEnv>): void {
  const incoming = c.env?.incoming;
  if (incoming === undefined || incoming.readableDidRead || incoming.readableLength === 0) return;
  // With a Content-Length (and no chunking), Node delivers exactly that many bytes: once they
  // are all buffered, the body is whole (the parser marks the message complete only in its next
  // callback, after our middleware has already run).
  const length = incoming.headers["content-length"];
  if (length === undefined || incoming.headers["transfer-encoding"] !== undefined) return;
  if (incoming.readableLength !== Number(length)) return;
  if (Object.keys(c.req.bodyCache).length > 0) return;
  const body: unknown = incoming.read();
  if (!Buffer.isBuffer(body)) return;
  const text = body.toString("utf8");
  // Hono types the cache by value but stores (and awaits) promises.
  c.req.bodyCache.text = Promise.resolve(text.startsWith(BOM) ? text.slice(1) : text) as unknown as string;
}
