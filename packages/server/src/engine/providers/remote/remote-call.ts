/**
 * Retries, backoff and error mapping for calls to remote model servers, shared by the
 * openai-compatible and anthropic providers (it lives here until providers/ gets a shared
 * folder for remote transports).
 *
 * Why our own loop and not the SDKs' `maxRetries` (the SDKs run with `maxRetries: 0`):
 * - the SDKs retry only until response headers arrive; a stream that dies after its headers but
 *   before our caller saw a byte is just as safe to retry, and we do;
 * - their backoff (0.5 s … 8 s) is fixed; operators and tests need to set it;
 * - a `Retry-After` longer than we are willing to wait should fail fast as RATE_LIMIT_EXCEEDED
 *   carrying that `retry_after`, instead of being replaced by the SDK's own backoff;
 * - one policy and one error mapping for every remote provider.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError } from "../../../errors.js";
import { upstreamError, upstreamRateLimited, upstreamTimeout } from "../../upstream-errors.js";
import { UpstreamReadTimeoutError } from "./read-timeout-fetch.js";

export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  /** Backoff before retry n is `initialBackoffMs · 2^(n-1)`, capped, with ±25 % jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A `Retry-After` longer than this is not waited out: the call fails with RATE_LIMIT_EXCEEDED. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  initialBackoffMs: 500,
  maxBackoffMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/** Tuning knobs the providers accept for the backoff (`maxRetries` is a top-level option). */
export interface RetryBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  maxRetryAfterMs?: number;
}

export function retryPolicy(maxRetries: number | undefined, backoff: RetryBackoffOptions = {}): RetryPolicy {
  return {
    maxRetries: Math.max(0, maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries),
    initialBackoffMs: backoff.initialMs ?? DEFAULT_RETRY_POLICY.initialBackoffMs,
    maxBackoffMs: backoff.maxMs ?? DEFAULT_RETRY_POLICY.maxBackoffMs,
    maxRetryAfterMs: backoff.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
  };
}

/** The upstream's answer did not make sense: not JSON, wrong shape, or a stream cut short. */
export class UpstreamProtocolError extends Error {
  override readonly name = "UpstreamProtocolError";
}

/**
 * Our caller's signal aborted. Never leaves a provider: generate/stream turn it into
 * `finishReason: "cancelled"`.
 */
export class UpstreamCallCancelled extends Error {
  override readonly name = "UpstreamCallCancelled";
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The Stainless error hierarchy both SDKs share; each provider passes its SDK's classes. */
export interface SdkErrorClasses {
  APIError: abstract new (
    ...args: never[]
  ) => Error & { readonly status: number | undefined; readonly headers: Headers | undefined };
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
  APIUserAbortError: ErrorClass;
}

type Failure =
  | { kind: "cancelled" }
  | { kind: "final"; error: ApiError }
  | { kind: "timeout"; phase: "response" | "read"; timeoutMs: number }
  | { kind: "rate-limited"; retryAfterMs: number | undefined }
  | { kind: "status"; status: number; message: string; retryAfterMs: number | undefined }
  | { kind: "connection" | "protocol" | "reported" | "unexpected"; message: string };

export interface AttemptOptions {
  /** The caller's signal, already linked with the model's lifetime. */
  signal: AbortSignal;
  /** The SDK `timeout` the attempt used (time until response headers), for the error details. */
  responseTimeoutMs: number;
}

const MESSAGE_LIMIT = 300;

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MESSAGE_LIMIT ? `${oneLine.slice(0, MESSAGE_LIMIT)}…` : oneLine;
}

/** `Retry-After-Ms` (OpenAI), then `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The human part of an SDK error: `apiMessage` (Anthropic), `error.message` (OpenAI), else `message`. */
function upstreamMessage(err: Error): string {
  const record = err as Error & { apiMessage?: unknown; error?: unknown };
  if (typeof record.apiMessage === "string") return shorten(record.apiMessage);
  const body = record.error;
  if (body !== null && typeof body === "object" && "message" in body && typeof body.message === "string") {
    return shorten(body.message);
  }
  return shorten(err.message);
}

function describeCause(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause && "code" in cause && typeof cause.code === "string" ? ` (${cause.code})` : "";
  return shorten(cause ? `${err.message}: ${cause.message}${code}` : err.message);
}

function findReadTimeout(err: unknown): UpstreamReadTimeoutError | undefined {
  for (
    let current = err, depth = 0;
    current instanceof Error && depth < 5;
    current = current.cause, depth++
  ) {
    if (current instanceof UpstreamReadTimeoutError) return current;
  }
  return undefined;
}

/** undici's network failures: "fetch failed" before headers, "terminated" while reading a body. */
function isNetworkError(err: unknown): err is TypeError {
  return err instanceof TypeError && (err.message === "fetch failed" || err.message === "terminated");
}

/** Runs upstream calls under one retry policy and turns every failure into our typed errors. */
export class RemoteCaller {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly sdk: SdkErrorClasses,
    /** Goes into every error's details (`provider`, `model`); never the base URL or key. */
    private readonly context: { provider: string; model: string },
  ) {}

  /** Calls `attempt` until it succeeds, a failure is final, or the retries are spent. */
  async call<T>(attempt: () => Promise<T>, options: AttemptOptions): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        await this.afterFailure(err, n, options, false);
      }
    }
  }

  /**
   * Streams `attempt`'s items; an attempt that fails before yielding anything is retried, one
   * that already yielded is final (our caller has bytes of it — a retry would duplicate them).
   */
  async *stream<T>(attempt: () => AsyncIterable<T>, options: AttemptOptions): AsyncGenerator<T> {
    for (let n = 1; ; n++) {
      let delivered = false;
      try {
        for await (const item of attempt()) {
          delivered = true;
          yield item;
        }
        return;
      } catch (err) {
        await this.afterFailure(err, n, options, delivered);
      }
    }
  }

  /** Returns after the backoff when another attempt should run; throws otherwise. */
  private async afterFailure(err: unknown, attempt: number, options: AttemptOptions, delivered: boolean) {
    const failure = this.classify(err, options);
    if (failure.kind === "cancelled")
      throw new UpstreamCallCancelled("cancelled by the caller", { cause: err });
    if (failure.kind === "final") throw failure.error;
    const delay =
      delivered || attempt > this.policy.maxRetries ? undefined : this.retryDelayMs(failure, attempt);
    if (delay === undefined) throw this.toApiError(failure, attempt, err);
    try {
      await sleep(delay, undefined, { signal: options.signal });
    } catch {
      throw new UpstreamCallCancelled("cancelled by the caller during backoff", { cause: err });
    }
  }

  private classify(err: unknown, options: AttemptOptions): Failure {
    // Whatever the error looks like, once our caller aborted it is a cancellation.
    if (options.signal.aborted) return { kind: "cancelled" };
    if (err instanceof ApiError) return { kind: "final", error: err };
    const readTimeout = findReadTimeout(err);
    if (readTimeout) return { kind: "timeout", phase: "read", timeoutMs: readTimeout.timeoutMs };
    const { sdk } = this;
    if (err instanceof sdk.APIUserAbortError) return { kind: "cancelled" };
    if (err instanceof sdk.APIConnectionTimeoutError) {
      return { kind: "timeout", phase: "response", timeoutMs: options.responseTimeoutMs };
    }
    if (err instanceof sdk.APIConnectionError) return { kind: "connection", message: describeCause(err) };
    if (err instanceof sdk.APIError) {
      // No status: an error event inside a 200 stream, reported by the upstream itself.
      if (err.status === undefined) return { kind: "reported", message: upstreamMessage(err) };
      const retryAfterMs = parseRetryAfterMs(err.headers);
      if (err.status === 429) return { kind: "rate-limited", retryAfterMs };
      return { kind: "status", status: err.status, message: upstreamMessage(err), retryAfterMs };
    }
    if (err instanceof UpstreamProtocolError) return { kind: "protocol", message: shorten(err.message) };
    if (err instanceof SyntaxError)
      return { kind: "protocol", message: `invalid JSON (${shorten(err.message)})` };
    if (isNetworkError(err)) return { kind: "connection", message: describeCause(err) };
    return { kind: "unexpected", message: err instanceof Error ? shorten(err.message) : String(err) };
  }

  /** The backoff before the next attempt, or undefined when this failure is not worth a retry. */
  private retryDelayMs(failure: Failure, attempt: number): number | undefined {
    let retryAfterMs: number | undefined;
    switch (failure.kind) {
      case "rate-limited":
        retryAfterMs = failure.retryAfterMs;
        break;
      case "status":
        // 408/409 are transient by definition; other 4xx would fail the same way again.
        if (failure.status < 500 && failure.status !== 408 && failure.status !== 409) return undefined;
        retryAfterMs = failure.retryAfterMs;
        break;
      case "connection":
      case "protocol":
      case "reported":
        break;
      default:
        // Timeouts are not retried: the timeout is the caller's latency budget, and a retry
        // would double it. Unexpected errors are bugs, not weather.
        return undefined;
    }
    if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) return undefined;
    const base = Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** (attempt - 1));
    const jittered = base * (0.75 + Math.random() * 0.5);
    return Math.max(retryAfterMs ?? 0, jittered);
  }

  private toApiError(failure: Failure, attempts: number, cause: unknown): ApiError {
    const details = { ...this.context, attempts };
    const who = `the ${this.context.provider} upstream`;
    switch (failure.kind) {
      case "timeout":
        return upstreamTimeout(
          failure.phase === "read"
            ? `${who} went silent for more than ${failure.timeoutMs} ms`
            : `${who} did not start answering within ${failure.timeoutMs} ms`,
          { ...details, phase: failure.phase, timeout_ms: failure.timeoutMs },
          cause,
        );
      case "rate-limited":
        return upstreamRateLimited(
          failure.retryAfterMs === undefined ? undefined : Math.ceil(failure.retryAfterMs / 1000),
          details,
        );
      case "status":
        return upstreamError(
          `${who} answered HTTP ${failure.status}: ${failure.message}`,
          { ...details, status: failure.status, upstream_message: failure.message },
          cause,
        );
      case "connection":
        return upstreamError(`connection to ${who} failed: ${failure.message}`, details, cause);
      case "protocol":
        return upstreamError(`${who} sent a malformed answer: ${failure.message}`, details, cause);
      case "reported":
        return upstreamError(
          `${who} reported an error: ${failure.message}`,
          { ...details, upstream_message: failure.message },
          cause,
        );
      case "unexpected":
        return upstreamError(`calling ${who} failed: ${failure.message}`, details, cause);
      default:
        return upstreamError(`calling ${who} failed`, details, cause);
    }
  }
}
