/**
 * Relays an OpenAI-compatible upstream's answer to the client byte for byte (see
 * `LoadedModel.passthrough`). No chunk is decoded: the relay only keeps the last few KiB to
 * learn, once the body ended, how it ended (`data: [DONE]` or an error event) and the token
 * usage when the upstream reported one (`stream_options.include_usage`, or any JSON answer).
 *
 * The model stays checked out (`HeldModel`) until the body ended, failed or the client went
 * away; then the request is recorded like any other.
 */
import type { Context } from "hono";
import type { HeldCallOutcome, HeldModel } from "../engine/model-runner.js";
import type { PassthroughPath, TokenUsage } from "../engine/providers/provider.js";
import { upstreamError } from "../engine/upstream-errors.js";
import type { AppEnv } from "../http/context.js";
import { clientClosed, openAIErrorFor } from "./errors.js";

/** Enough for the final usage chunk and `data: [DONE]`, even with verbose servers. */
const TAIL_BYTES = 8 * 1024;

/** The last `limit` bytes (at least) of a body, kept as the chunks themselves (no copy). */
class Tail {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    for (;;) {
      const first = this.chunks[0];
      if (first === undefined || this.size - first.byteLength < this.limit) return;
      this.chunks.shift();
      this.size -= first.byteLength;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** The last `usage` object in the text, if it has token counts. */
export function sniffUsage(tail: string): TokenUsage | undefined {
  const at = tail.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  const rest = tail.slice(at);
  const prompt = /"prompt_tokens"\s*:\s*(\d+)/.exec(rest)?.[1];
  const completion = /"completion_tokens"\s*:\s*(\d+)/.exec(rest)?.[1];
  if (prompt === undefined || completion === undefined) return undefined;
  return { promptTokens: Number(prompt), completionTokens: Number(completion) };
}

const ERROR_EVENT = /(^|\n)data:\s*\{\s*"error"\s*:/;
const DONE_EVENT = /(^|\n)data:\s*\[DONE\]/;

/** How an SSE body that ended cleanly really ended, judged from its tail. */
function sseEnding(tail: string): "done" | "error" | "truncated" {
  if (ERROR_EVENT.test(tail)) return "error";
  return DONE_EVENT.test(tail) ? "done" : "truncated";
}

interface RelayOptions {
  sse: boolean;
  /** Called exactly once, when the relay is over. */
  settle(outcome: HeldCallOutcome): void;
  /** The client went away: stop the upstream. */
  cancel(): void;
}

function relay(source: ReadableStream<Uint8Array>, options: RelayOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const tail = new Tail(TAIL_BYTES);
  const encoder = new TextEncoder();
  const errorEvent = (err: unknown) => encoder.encode(`data: ${JSON.stringify(openAIErrorFor(err))}\n\n`);
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          if (cancelled) return;
          // The upstream failed mid-answer. An SSE client gets an error event it can raise;
          // a JSON body can only be cut short.
          if (options.sse) {
            controller.enqueue(errorEvent(err));
            controller.close();
          } else {
            controller.error(err);
          }
          options.settle({ success: false, error: err, usage: sniffUsage(tail.text()) });
          return;
        }
        if (cancelled) return;
        if (!next.done) {
          tail.push(next.value);
          controller.enqueue(next.value);
          return;
        }
        const text = tail.text();
        const usage = sniffUsage(text);
        const ending = options.sse ? sseEnding(text) : "done";
        if (ending === "truncated") {
          // Clients end quietly on a clean close and would take a partial answer for a whole one.
          const err = upstreamError(
            "the upstream's stream ended before the model finished (truncated answer)",
          );
          controller.enqueue(errorEvent(err));
          options.settle({ success: false, error: err, usage });
        } else {
          options.settle({ success: ending === "done", usage });
        }
        controller.close();
      },
      async cancel(reason) {
        cancelled = true;
        options.cancel();
        // Like a cancelled translated stream, a client that left is not a failed request.
        options.settle({ success: true });
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    // Pull only when the client reads: backpressure reaches the upstream connection.
    { highWaterMark: 0 },
  );
}

/**
 * Forwards `body` through the held model and answers with the upstream's bytes. Failures before
 * the upstream answered are thrown (plain HTTP errors for the client).
 */
export async function passthroughResponse(
  c: Context<AppEnv>,
  held: HeldModel,
  path: PassthroughPath,
  body: Record<string, unknown>,
  abort: AbortController,
): Promise<Response> {
  const { model } = held;
  if (model.passthrough === undefined) throw new Error("the model has no passthrough");
  let upstream: Response;
  try {
    upstream = await model.passthrough(path, body, abort.signal);
  } catch (err) {
    if (!abort.signal.aborted) {
      held.finish({ success: false, error: err });
      throw err;
    }
    held.finish({ success: true });
    return clientClosed();
  }
  const contentType = upstream.headers.get("content-type") ?? "application/json";
  const sse = contentType.startsWith("text/event-stream");
  if (upstream.body === null) {
    held.finish({ success: true });
    return c.body(null, 200);
  }
  const relayed = relay(upstream.body, {
    sse,
    settle: (outcome) => {
      if (outcome.error !== undefined) {
        c.get("logger")?.warn(
          { err: outcome.error, request_id: c.get("requestId") },
          "passthrough stream failed",
        );
      }
      held.finish(outcome);
    },
    cancel: () => abort.abort(),
  });
  return c.body(relayed, 200, {
    "Content-Type": contentType,
    ...(sse ? { "Cache-Control": "no-cache" } : {}),
  });
}
