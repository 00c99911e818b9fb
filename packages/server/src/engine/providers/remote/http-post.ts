/**
 * A lean JSON POST for the byte passthrough, on undici's dispatcher API: one keep-alive pool per
 * upstream origin, the response handed over as callbacks, no Node stream or WHATWG stream in
 * between. The SDK + `fetch` path cost several hundred µs of CPU per request, and node:http's
 * client (agent, IncomingMessage, its async iterator) was still a fifth of a proxied request.
 * Failures come out as the SDK's error classes, so the RemoteCaller's retry policy and error
 * mapping apply unchanged.
 */
import OpenAI from "openai";
import { type Dispatcher, Pool } from "undici";
import type { Cancellation } from "../call-abort.js";
import { UpstreamReadTimeoutError } from "./read-timeout-fetch.js";

/** Response headers as undici hands them over: lower-case names, repeated ones as arrays. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Connections per upstream origin (the old http.Agent's maxSockets). */
const CONNECTIONS_PER_ORIGIN = 256;
const ERROR_BODY_LIMIT = 64 * 1024;
/** Buffered body bytes the reader has not taken yet before the upstream is paused (backpressure). */
const HIGH_WATER_BYTES = 64 * 1024;

export interface HttpPostOptions {
  /** Aborting it fails the request before the headers, or closes the body after them. */
  abort: Cancellation;
  /** Until the response headers. */
  responseTimeoutMs: number;
  /** Longest silence while the body streams; the body then fails with UpstreamReadTimeoutError. */
  readTimeoutMs: number;
}

/** Where a request goes, worked out once (per model and path), not per request. */
export interface RequestTarget {
  origin: string;
  path: string;
}

export function requestTarget(url: string): RequestTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`not an http(s) URL: ${url}`);
  }
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

/** One pool per origin for the process's lifetime, like the keep-alive agents it replaces. */
const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    // headersTimeout is ours (it must include the connect); bodyTimeout is set per request.
    pool = new Pool(origin, { connections: CONNECTIONS_PER_ORIGIN, headersTimeout: 0 });
    pools.set(origin, pool);
  }
  return pool;
}

/** A 2xx answer whose body is read as it arrives. */
export interface UpstreamResponse {
  status: number;
  headers: ResponseHeaders;
  /** The body's chunks; fails with UpstreamReadTimeoutError after a silence, or the connection's error. */
  body: AsyncIterable<Uint8Array>;
  /** Closes the connection (the upstream stops); a reader then sees the body fail. */
  destroy(): void;
  readonly destroyed: boolean;
}

type Pending = {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: unknown): void;
};

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };

/**
 * The body's chunks, pushed by undici and pulled by one reader. Only what the reader has not
 * taken yet is buffered; above the high-water mark the connection is paused.
 */
class ResponseBody implements AsyncIterableIterator<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private pending: Pending | undefined;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  get finished(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(chunk: Uint8Array): void {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      pending.resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered > HIGH_WATER_BYTES && !this.controller.paused) this.controller.pause();
  }

  end(): void {
    this.ended = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(DONE);
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.failure = error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      this.buffered -= chunk.byteLength;
      if (this.controller.paused && this.buffered <= HIGH_WATER_BYTES) this.controller.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  /** A reader that stops early (`break`) closes the connection, as Node's stream iterators do. */
  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.finished) this.controller.abort(new Error("the reader stopped reading the response"));
    this.chunks.length = 0;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Reads at most `limit` bytes of an (error) body, then closes it. */
async function readSome(body: ResponseBody, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}

function headersOf(raw: ResponseHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** A non-2xx answer as the SDK would have thrown it (status, parsed error body, headers). */
async function statusError(status: number, headers: ResponseHeaders, body: ResponseBody): Promise<Error> {
  const text = await readSome(body, ERROR_BODY_LIMIT).catch(() => "");
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
  return OpenAI.APIError.generate(status, parsed as object | undefined, message, headersOf(headers));
}

const isBodyTimeout = (error: Error) => (error as { code?: unknown }).code === "UND_ERR_BODY_TIMEOUT";

/**
 * POSTs `payload` and resolves with the 2xx response (its body unread) or rejects with the
 * SDK's APIError (status), APIConnectionError, APIConnectionTimeoutError or APIUserAbortError.
 * Once resolved, an abort of `options.abort` closes the connection.
 */
export function postJson(
  target: RequestTarget,
  payload: string,
  headers: Record<string, string>,
  options: HttpPostOptions,
): Promise<UpstreamResponse> {
  return new Promise((resolvePromise, reject) => {
    const { abort } = options;
    if (abort.aborted) {
      reject(new OpenAI.APIUserAbortError());
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let body: ResponseBody | undefined;
    /** Set once the promise settled: later failures belong to the body, if any. */
    let answered = false;
    let closed = false;
    const close = (reason: Error) => {
      if (closed) return;
      closed = true;
      controller?.abort(reason);
    };
    const fail = (error: Error) => {
      if (answered) return;
      answered = true;
      finish();
      close(error);
      reject(error);
    };
    const timer = setTimeout(() => fail(new OpenAI.APIConnectionTimeoutError()), options.responseTimeoutMs);
    const onAbort = () => {
      if (!answered) fail(new OpenAI.APIUserAbortError());
      else {
        body?.fail(new OpenAI.APIUserAbortError());
        close(new OpenAI.APIUserAbortError());
      }
    };
    const stopWatching = abort.onAbort(onAbort);
    const stopTimer = () => clearTimeout(timer);
    /** Nothing of this request is pending any more: no timer, no callback on the caller's abort. */
    const finish = () => {
      stopTimer();
      stopWatching();
    };

    poolFor(target.origin).dispatch(
      {
        origin: target.origin,
        path: target.path,
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(payload)),
        },
        body: payload,
        bodyTimeout: options.readTimeoutMs,
      },
      {
        onRequestStart(ctl) {
          controller = ctl;
          // Given up (timeout, abort) before undici got this far: the caller already has its error.
          if (closed) ctl.abort(new Error("the request was given up before it was sent"));
        },
        onResponseStart(ctl, status, responseHeaders) {
          // 1xx informational answers come before the real one.
          if (status < 200 || answered) return;
          body = new ResponseBody(ctl);
          if (status >= 300) {
            const failing = body;
            answered = true;
            finish();
            statusError(status, responseHeaders, failing).then(reject, reject);
            return;
          }
          answered = true;
          // The abort stays watched: it now closes the body.
          stopTimer();
          const answeredBody = body;
          resolvePromise({
            status,
            headers: responseHeaders,
            body: answeredBody,
            destroy: () => {
              answeredBody.fail(new Error("the response was closed"));
              close(new Error("the response was closed"));
            },
            get destroyed() {
              return closed || answeredBody.finished;
            },
          });
        },
        onResponseData(_ctl, chunk) {
          body?.push(chunk);
        },
        onResponseEnd() {
          finish();
          body?.end();
        },
        onResponseError(_ctl, error) {
          finish();
          if (!answered) {
            fail(new OpenAI.APIConnectionError({ cause: error }));
            return;
          }
          body?.fail(isBodyTimeout(error) ? new UpstreamReadTimeoutError(options.readTimeoutMs) : error);
        },
      },
    );
  });
}
