import type { ErrorEnvelope } from "./types.js";

/**
 * Codes the client itself produces, next to the server's codes (`MODEL_NOT_FOUND`,
 * `UNAUTHORIZED`, `RATE_LIMIT_EXCEEDED`, … see spec/ai-api.md "Errors").
 */
export const CLIENT_ERROR_CODES = {
  /** The server could not be reached (refused, DNS, reset…): `status` is undefined. */
  CONNECTION_ERROR: "CONNECTION_ERROR",
  /** No answer within the client's `timeoutMs`, or a wait ran past its own timeout. */
  TIMEOUT: "TIMEOUT",
  /** A non-2xx answer without the error envelope (say, from a proxy in front of the server). */
  UNEXPECTED_RESPONSE: "UNEXPECTED_RESPONSE",
  /** A model load that ended in `error` (or was cancelled) while `waitForModelLoaded` waited. */
  MODEL_LOAD_FAILED: "MODEL_LOAD_FAILED",
  /** `waitForModelLoaded` found the model neither loading nor loaded. */
  MODEL_NOT_LOADING: "MODEL_NOT_LOADING",
} as const;

/** Everything needed to build an {@link AiserviceError}. */
export interface AiserviceErrorInit {
  code: string;
  message: string;
  /** HTTP status; undefined when no answer arrived. */
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * The one error the SDK throws: every non-2xx answer (from the server's error envelope and
 * headers) and every failure to get an answer at all.
 */
export class AiserviceError extends Error {
  /** Server code such as `MODEL_NOT_FOUND`, or one of {@link CLIENT_ERROR_CODES}. */
  readonly code: string;
  /** HTTP status, or undefined when the server was not reached or did not answer in time. */
  readonly status: number | undefined;
  /** The envelope's `details` (for example `suggestion` and `available_models`); `{}` when none. */
  readonly details: Record<string, unknown>;
  /** The server's request id (envelope `request_id`, else the `X-Request-Id` header), for support and logs. */
  readonly requestId: string | undefined;
  /** When to retry (`Retry-After` header, else `details.retry_after_seconds`), for 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  /** Builds an error from its parts; the SDK does this, callers normally only catch. */
  constructor(init: AiserviceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AiserviceError";
    this.code = init.code;
    this.status = init.status;
    this.details = init.details ?? {};
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** The server's hint for a fix, such as `Use 'tiny' instead` for MODEL_NOT_FOUND, when it gave one. */
  get suggestion(): string | undefined {
    const suggestion = this.details.suggestion;
    return typeof suggestion === "string" ? suggestion : undefined;
  }
}

/** True for an {@link AiserviceError}, optionally with one of the given codes. */
export function isAiserviceError(value: unknown, ...codes: string[]): value is AiserviceError {
  return value instanceof AiserviceError && (codes.length === 0 || codes.includes(value.code));
}

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = body.error;
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    "message" in error &&
    typeof error.message === "string"
  );
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Turns a non-2xx answer (body already parsed by openapi-fetch) into an {@link AiserviceError}. */
export function errorFromResponse(response: Response, body: unknown): AiserviceError {
  const headerRequestId = response.headers.get("x-request-id") ?? undefined;
  const headerRetry = parseRetryAfter(response.headers.get("retry-after"));
  if (isErrorEnvelope(body)) {
    const { code, message, details, request_id } = body.error;
    const detailRetry = details?.retry_after_seconds;
    return new AiserviceError({
      code,
      message,
      status: response.status,
      details: details ?? {},
      requestId: request_id ?? headerRequestId,
      retryAfterSeconds: headerRetry ?? (typeof detailRetry === "number" ? detailRetry : undefined),
    });
  }
  const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
  const statusText = response.statusText ? ` ${response.statusText}` : "";
  return new AiserviceError({
    code: CLIENT_ERROR_CODES.UNEXPECTED_RESPONSE,
    message: `HTTP ${response.status}${statusText} from ${response.url} without an aiservice error body`,
    status: response.status,
    details: text === "" ? {} : { body: text.slice(0, 1000) },
    requestId: headerRequestId,
    retryAfterSeconds: headerRetry,
  });
}

/** Describes why a request got no usable answer: refused connection, DNS failure, timeout, bad JSON. */
export function errorFromFailure(
  error: unknown,
  baseUrl: string,
  timeoutMs: number | undefined,
): AiserviceError {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    const timedOut = error.name === "TimeoutError";
    return new AiserviceError({
      code: timedOut ? CLIENT_ERROR_CODES.TIMEOUT : CLIENT_ERROR_CODES.CONNECTION_ERROR,
      message: timedOut
        ? `no answer from the aiservice server at ${baseUrl} within ${timeoutMs} ms`
        : `request to the aiservice server at ${baseUrl} was aborted`,
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new AiserviceError({
      code: CLIENT_ERROR_CODES.UNEXPECTED_RESPONSE,
      message: `the server at ${baseUrl} answered with invalid JSON: ${error.message}`,
      cause: error,
    });
  }
  // Node's fetch throws TypeError("fetch failed") with the socket error as its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AiserviceError({
    code: CLIENT_ERROR_CODES.CONNECTION_ERROR,
    message: `cannot reach the aiservice server at ${baseUrl}: ${reason}`,
    cause: error,
  });
}
