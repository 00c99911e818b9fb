/**
 * Relays an OpenAI-compatible upstream's answer to the client byte for byte (see
 * `LoadedModel.passthrough`). No chunk is decoded: the relay only keeps the last few KiB to
 * learn, once the body ended, how it ended (`data: [DONE]` or an error event) and the token
 * usage when the upstream reported one (`stream_options.include_usage`, or any JSON answer).
 *
 * The model stays checked out (`HeldModel`) until the body ended, failed or the client went
 * away; then the request is recorded like any other.
 */
import type { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { HeldCallOutcome, HeldModel } from "../engine/model-runner.js";
import type { CallAbort } from "../engine/providers/call-abort.js";
import type { PassthroughAnswer, PassthroughPath, TokenUsage } from "../engine/providers/provider.js";
import { upstreamError } from "../engine/upstream-errors.js";
import { ApiError } from "../errors.js";
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
  /** Called exactly once, when the relay is over; `error` says why it failed, for the log. */
  settle(outcome: HeldCallOutcome & { error?: unknown }): void;
}

/** Where the relayed bytes go: Node's response, or a web stream without one. */
interface Sink {
  /** Resolves when the client can take more (backpressure reaches the upstream). */
  write(chunk: Uint8Array): Promise<void> | undefined;
  end(): void;
  /** Cuts the answer short (a JSON body cannot carry an error). */
  fail(err: unknown): void;
  /** True once the client went away. */
  readonly gone: boolean;
}

/**
 * Copies the upstream's chunks to the client as they arrive, keeping only a tail to learn how
 * the body ended. An SSE body that fails or ends without `data: [DONE]` gets an error event the
 * client can raise; a JSON body can only be cut short.
 */
async function relay(answer: PassthroughAnswer, sink: Sink, options: RelayOptions): Promise<void> {
  const tail = new Tail(TAIL_BYTES);
  const errorEvent = (err: unknown) => Buffer.from(`data: ${JSON.stringify(openAIErrorFor(err))}\n\n`);
  try {
    for await (const chunk of answer.body) {
      if (sink.gone) break;
      tail.push(chunk);
      await sink.write(chunk);
    }
  } catch (err) {
    if (sink.gone) {
      options.settle({ success: true });
      return;
    }
    if (options.sse) {
      await sink.write(errorEvent(err));
      sink.end();
    } else {
      sink.fail(err);
    }
    options.settle({ success: false, error: err, usage: sniffUsage(tail.text()) });
    return;
  }
  if (sink.gone) {
    answer.cancel();
    // Like a cancelled translated stream, a client that left is not a failed request.
    options.settle({ success: true });
    return;
  }
  // The answer is ended before the bookkeeping (usage, the request record): that is latency
  // the client would otherwise wait for.
  if (!options.sse) {
    sink.end();
    options.settle({ success: true, usage: sniffUsage(tail.text()) });
    return;
  }
  const text = tail.text();
  const usage = sniffUsage(text);
  const ending = sseEnding(text);
  if (ending === "truncated") {
    // Clients end quietly on a clean close and would take a partial answer for a whole one.
    const err = upstreamError("the upstream's stream ended before the model finished (truncated answer)");
    await sink.write(errorEvent(err));
    sink.end();
    options.settle({ success: false, error: err, usage });
    return;
  }
  sink.end();
  options.settle({ success: ending === "done", usage });
}

/** Writes to Node's response directly: no Response object, no web stream in between. */
function nodeSink(res: ServerResponse, onGone: () => void): Sink {
  let gone = false;
  res.once("close", () => {
    if (res.writableFinished) return;
    gone = true;
    onGone();
  });
  return {
    get gone() {
      return gone;
    },
    write(chunk) {
      if (gone || res.write(chunk)) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.once("drain", done);
        res.once("close", done);
      });
    },
    end: () => res.end(),
    fail: () => res.destroy(),
  };
}

/** Without a Node response (`app.request()` in tests): the same relay into a web stream. */
function webStream(answer: PassthroughAnswer, options: RelayOptions): ReadableStream<Uint8Array> {
  let gone = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const sink: Sink = {
        get gone() {
          return gone;
        },
        write: (chunk) => {
          if (!gone) controller.enqueue(chunk);
          return undefined;
        },
        end: () => controller.close(),
        fail: (err) => controller.error(err),
      };
      void relay(answer, sink, options);
    },
    cancel() {
      gone = true;
      answer.cancel();
    },
  });
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
  abort: CallAbort,
): Promise<Response> {
  const { model } = held;
  if (model.passthrough === undefined) throw new Error("the model has no passthrough");
  let answer: PassthroughAnswer;
  try {
    answer = await model.passthrough(path, body, abort);
  } catch (err) {
    // The client left; an unload aborts with an ApiError as the reason, and that is a failure.
    if (abort.aborted && !(abort.signal.reason instanceof ApiError)) {
      held.finish({ success: true });
      return clientClosed();
    }
    held.finish({ success: false });
    throw err;
  }
  const sse = answer.contentType.startsWith("text/event-stream");
  const options: RelayOptions = {
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
  };
  const headers: Record<string, string> = { "Content-Type": answer.contentType };
  if (sse) headers["Cache-Control"] = "no-cache";
  // The bytes go through unchanged, so the upstream's length holds (an SSE body may get an error
  // event appended, so it never carries one); a JSON body that fails midway is cut anyway.
  else if (answer.contentLength !== undefined) headers["Content-Length"] = String(answer.contentLength);
  const res = c.env?.outgoing;
  if (res === undefined) return c.body(webStream(answer, options), 200, headers);
  // Headers the middleware set (request id, rate limits) are already on `res` (setResponseHeader).
  res.writeHead(200, headers);
  await relay(
    answer,
    nodeSink(res, () => {
      abort.abort();
      answer.cancel();
    }),
    options,
  );
  return RESPONSE_ALREADY_SENT;
}
