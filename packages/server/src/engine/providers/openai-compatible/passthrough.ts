/**
 * Byte passthrough to an OpenAI-compatible upstream (`LoadedModel.passthrough`): the client's
 * body goes up with only `model` rewritten, the upstream's response body comes back unparsed.
 */
import type { IncomingMessage } from "node:http";
import OpenAI from "openai";
import { ApiError } from "../../../errors.js";
import { upstreamError, upstreamTimeout } from "../../upstream-errors.js";
import type { PassthroughPath } from "../provider.js";
import { postJson } from "../remote/http-post.js";
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

/**
 * One forwarded request, over the lean HTTP transport (remote/http-post.ts) with the client's
 * base URL and key. A 400/422 is the forwarded body's fault, so it becomes our INVALID_REQUEST
 * with the upstream's own message (final: a retry would fail the same way); every other failure
 * is left to the RemoteCaller's retries and mapping.
 */
export async function forwardOnce(
  client: OpenAI,
  path: PassthroughPath,
  body: Record<string, unknown>,
  options: { signal: AbortSignal; timeout: number; readTimeoutMs: number },
): Promise<IncomingMessage> {
  try {
    return await postJson(
      new URL(`${client.baseURL.replace(/\/+$/, "")}/${path}`),
      JSON.stringify(body),
      {
        authorization: `Bearer ${client.apiKey}`,
        accept: body.stream === true ? "text/event-stream" : "application/json",
      },
      { signal: options.signal, responseTimeoutMs: options.timeout, readTimeoutMs: options.readTimeoutMs },
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
 * The upstream's answer as a Response whose body hands on the upstream's chunks as they are (no
 * copy, no decoding), maps a failure while reading to a typed error, and calls `settle` once it
 * ended, failed or was cancelled.
 */
export function settleWhenBodyEnds(response: IncomingMessage, settle: () => void): Response {
  const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let settled = false;
  const settleOnce = () => {
    if (settled) return;
    settled = true;
    settle();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done === true) {
            settleOnce();
            controller.close();
          } else {
            controller.enqueue(next.value);
          }
        } catch (err) {
          settleOnce();
          controller.error(bodyFailure(err));
        }
      },
      cancel() {
        settleOnce();
        response.destroy();
      },
    },
    // Pull only when the consumer reads: backpressure reaches the upstream connection.
    { highWaterMark: 0 },
  );
  const contentType = response.headers["content-type"];
  return new Response(body, {
    status: response.statusCode ?? 200,
    headers: contentType === undefined ? {} : { "content-type": contentType },
  });
}
