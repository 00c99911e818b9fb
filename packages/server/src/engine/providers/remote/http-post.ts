/**
 * A lean JSON POST for the byte passthrough: `node:http(s)` over keep-alive agents, the
 * response body left as Node's own stream. The SDK + `fetch` path costs several hundred µs of
 * CPU per request (header validation, WHATWG streams, request bookkeeping) — most of what a
 * proxied request cost. Failures come out as the SDK's error classes, so the RemoteCaller's
 * retry policy and error mapping apply unchanged.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import OpenAI from "openai";
import { UpstreamReadTimeoutError } from "./read-timeout-fetch.js";

const AGENTS = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 256 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

const ERROR_BODY_LIMIT = 64 * 1024;

export interface HttpPostOptions {
  signal: AbortSignal;
  /** Until the response headers. */
  responseTimeoutMs: number;
  /** Longest silence while the body streams; the body then fails with UpstreamReadTimeoutError. */
  readTimeoutMs: number;
}

/** Where a request goes, worked out once (per model and path), not per request. */
export interface RequestTarget {
  protocol: "http:" | "https:";
  hostname: string;
  port: string;
  path: string;
}

export function requestTarget(url: string): RequestTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`not an http(s) URL: ${url}`);
  }
  return {
    protocol: parsed.protocol,
    // A bracketed IPv6 literal in a URL is a bare address for the socket.
    hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port,
    path: `${parsed.pathname}${parsed.search}`,
  };
}

/** Reads at most `limit` bytes of an (error) body. */
async function readSome(body: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  body.destroy();
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}

function headersOf(message: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** A non-2xx answer as the SDK would have thrown it (status, parsed error body, headers). */
async function statusError(response: IncomingMessage): Promise<Error> {
  const text = await readSome(response, ERROR_BODY_LIMIT).catch(() => "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  // The SDK takes the whole body and reads its `error` member itself.
  const error =
    parsed !== null && typeof parsed === "object" && "error" in parsed
      ? (parsed as { error: unknown }).error
      : undefined;
  const message =
    error !== null && typeof error === "object" && "message" in error && typeof error.message === "string"
      ? undefined
      : text.slice(0, 500) || undefined;
  return OpenAI.APIError.generate(
    response.statusCode,
    parsed as object | undefined,
    message,
    headersOf(response),
  );
}

/** Arms the read timeout on the response's socket for as long as the body streams. */
function watchSilence(response: IncomingMessage, timeoutMs: number): void {
  const socket = response.socket;
  const onTimeout = () => response.destroy(new UpstreamReadTimeoutError(timeoutMs));
  socket.setTimeout(timeoutMs);
  socket.on("timeout", onTimeout);
  response.once("close", () => {
    // The socket goes back to the pool: it must not keep this request's timer or listener.
    socket.setTimeout(0);
    socket.off("timeout", onTimeout);
  });
}

/**
 * POSTs `payload` and resolves with the 2xx response (its body unread) or rejects with the
 * SDK's APIError (status), APIConnectionError, APIConnectionTimeoutError or APIUserAbortError.
 */
export function postJson(
  target: RequestTarget,
  payload: string,
  headers: Record<string, string>,
  options: HttpPostOptions,
): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    if (options.signal.aborted) {
      reject(new OpenAI.APIUserAbortError());
      return;
    }
    const transport = target.protocol === "https:" ? https : http;
    const agent = AGENTS[target.protocol];
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      request.destroy();
      reject(error);
    };
    const request = transport.request({
      ...target,
      method: "POST",
      agent,
      headers: {
        ...headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(payload)),
      },
    });
    const timer = setTimeout(() => fail(new OpenAI.APIConnectionTimeoutError()), options.responseTimeoutMs);
    const onAbort = () => fail(new OpenAI.APIUserAbortError());
    options.signal.addEventListener("abort", onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    request.on("error", (error) => fail(new OpenAI.APIConnectionError({ cause: error })));
    request.on("response", (response) => {
      if (settled) {
        response.destroy();
        return;
      }
      settled = true;
      cleanup();
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        statusError(response).then(reject, reject);
        return;
      }
      watchSilence(response, options.readTimeoutMs);
      // Once the caller has the body, its signal closes the connection (the upstream stops).
      if (options.signal.aborted) response.destroy();
      else {
        const abortBody = () => response.destroy();
        options.signal.addEventListener("abort", abortBody, { once: true });
        response.once("close", () => options.signal.removeEventListener("abort", abortBody));
      }
      resolvePromise(response);
    });
    request.end(payload);
  });
}
