/**
 * The two generation endpoints' common path: check the model out once, then either pass the
 * request through untouched (the model's upstream speaks OpenAI itself) or translate it to the
 * neutral request, run it through the ModelRunner, and translate the answer back.
 */
import type { Context } from "hono";
import type { ModelRunner } from "../engine/model-runner.js";
import { CallAbort } from "../engine/providers/call-abort.js";
import type { GenerationRequest, GenerationResult, PassthroughPath } from "../engine/providers/provider.js";
import type { AppEnv } from "../http/context.js";
import { clientClosed } from "./errors.js";
import { passthroughResponse } from "./passthrough.js";
import { streamGeneration } from "./stream.js";
import { type ChunkFormat, checkCapabilities, type InputKind } from "./translate.js";

/** One request to one endpoint, with everything its body asked for already worked out. */
export interface GenerationCall {
  path: PassthroughPath;
  /** The validated client body, forwarded as it is by a passthrough. */
  body: Record<string, unknown> & { model: string };
  kind: InputKind;
  stream: boolean;
  includeUsage: boolean;
  request(signal: AbortSignal): GenerationRequest;
  /** The non-streaming response body. */
  respond(result: GenerationResult): unknown;
  chunks(): ChunkFormat;
}

/** Aborted when the client disconnects; other sources (a cancelled response body) abort it too. */
function abortOnDisconnect(c: Context<AppEnv>): CallAbort {
  const abort = new CallAbort();
  const res = c.env?.outgoing;
  if (res !== undefined) {
    // Node's own event: cheaper than the adapter's request signal (one more AbortController and
    // listener per request) and just as early. A response that finished is not a disconnect.
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    return abort;
  }
  const signal = c.req.raw.signal;
  if (signal.aborted) abort.abort();
  else signal.addEventListener("abort", () => abort.abort(), { once: true });
  return abort;
}

export async function answer(
  c: Context<AppEnv>,
  runner: ModelRunner,
  call: GenerationCall,
): Promise<Response> {
  const { model } = call.body;
  const abort = abortOnDisconnect(c);
  const held = await runner.checkOut(model);
  try {
    checkCapabilities(held.model.capabilities, model, call.kind);
  } catch (err) {
    held.release();
    throw err;
  }
  if (held.model.passthrough !== undefined) {
    return passthroughResponse(c, held, call.path, call.body, abort);
  }
  // Translated: the runner checks the model out again for the call it makes itself.
  held.release();
  const request = call.request(abort.signal);
  if (!call.stream) {
    const result = await runner.generate(model, request);
    return abort.signal.aborted ? clientClosed() : c.json(call.respond(result));
  }
  const chunks = runner.stream(model, request)[Symbol.asyncIterator]();
  // Awaited here so that a failure before the first chunk is an HTTP error, not a 200 stream.
  const first = await chunks.next();
  return streamGeneration(c, {
    chunks,
    first,
    format: call.chunks(),
    includeUsage: call.includeUsage,
    abort,
  });
}
