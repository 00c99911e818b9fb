/**
 * Byte passthrough to an OpenAI-compatible upstream (`LoadedModel.passthrough`): the client's
 * body goes up with only `model` rewritten, the upstream's response body comes back unparsed.
 */
import OpenAI from "openai";
import { ApiError } from "../../../errors.js";
import { upstreamError, upstreamTimeout } from "../../upstream-errors.js";
import type { Cancellation } from "../call-abort.js";
import type { PassthroughAnswer, PassthroughPath } from "../provider.js";
import { postJson, type RequestTarget, requestTarget, type UpstreamResponse } from "../remote/http-post.js";
import { UpstreamReadTimeoutError } from "../remote/read-timeout-fetch.js";

/** Upstream statuses that judge the forwarded body itself: the client's request is at fault. */
const CLIENT_FAULT_STATUSES = new Set([400, 422]);
const MESSAGE_LIMIT = 500;

function upstreamMessage(err: InstanceType<typeof OpenAI.APIError>): string {
  const body: unknown = err.error;
  const message =
    body !== null && typeof body === "object" && "message" in body && typeof body.message === "string"
      ? body.message
      : err.message;
  return message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message;
}

/** The request target of each passthrough path under a base URL (worked out once per model). */
export function passthroughTargets(baseUrl: string): Record<PassthroughPath, RequestTarget> {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    "chat/completions": requestTarget(`${base}/chat/completions`),
    completions: requestTarget(`${base}/completions`),
  };
}

/**
 * One forwarded request, over the lean HTTP transport (remote/http-post.ts) with the client's
 * key. A 400/422 is the forwarded body's fault, so it becomes our INVALID_REQUEST
 * with the upstream's own message (final: a retry would fail the same way); every other failure
 * is left to the RemoteCaller's retries and mapping.
 */
export async function forwardOnce(
  client: OpenAI,
  target: RequestTarget,
  body: Record<string, unknown>,
  options: { abort: Cancellation; timeout: number; readTimeoutMs: number },
): Promise<UpstreamResponse> {
  try {
    return await postJson(
      target,
      JSON.stringify(body),
      {
        authorization: `Bearer ${client.apiKey}`,
        accept: body.stream === true ? "text/event-stream" : "application/json",
        // The bytes are relayed as they come: they must not arrive compressed.
        "accept-encoding": "identity",
      },
      { abort: options.abort, responseTimeoutMs: options.timeout, readTimeoutMs: options.readTimeoutMs },
    );
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined && CLIENT_FAULT_STATUSES.has(err.status)) {
      const param: unknown = err.param;
      throw new ApiError("INVALID_REQUEST", upstreamMessage(err), {
        status: err.status,
        details: {
          upstream: true,
          upstream_status: err.status,
          ...(typeof param === "string" ? { param } : {}),
        },
        cause: err,
      });
    }
    throw err;
  }
}

/** A failure while reading an answer the caller already has the start of: typed, never retried. */
function bodyFailure(err: unknown): ApiError {
  const details = { provider: "openai-compatible", phase: "read" };
  if (err instanceof UpstreamReadTimeoutError) {
    return upstreamTimeout(
      `the openai-compatible upstream went silent for more than ${err.timeoutMs} ms`,
      { ...details, timeout_ms: err.timeoutMs },
      err,
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return upstreamError(`the openai-compatible upstream's answer broke off: ${reason}`, details, err);
}

/**
 * The upstream's answer for the route: its chunks as they arrive, a failure while reading mapped
 * to a typed error, and `settle` called exactly once when the body ended, failed or was
 * cancelled.
 */
export function passthroughAnswer(response: UpstreamResponse, settle: () => void): PassthroughAnswer {
  let settled = false;
  const settleOnce = () => {
    if (settled) return;
    settled = true;
    settle();
  };
  const chunks = response.body[Symbol.asyncIterator]();
  // A plain iterator rather than an async generator: one promise per chunk instead of several.
  const body: AsyncIterableIterator<Uint8Array> = {
    next: () =>
      chunks.next().then(
        (result) => {
          if (result.done === true) settleOnce();
          return result;
        },
        (err: unknown) => {
          settleOnce();
          throw bodyFailure(err);
        },
      ),
    return: async () => {
      settleOnce();
      return (await chunks.return?.()) ?? { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  const header = (name: string) => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const length = Number.parseInt(header("content-length") ?? "", 10);
  return {
    status: response.status,
    contentType: header("content-type") ?? "application/json",
    ...(Number.isSafeInteger(length) && length >= 0 ? { contentLength: length } : {}),
    body,
    cancel() {
      response.destroy();
      settleOnce();
    },
  };
}
