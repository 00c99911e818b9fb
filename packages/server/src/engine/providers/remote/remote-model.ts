import { setMaxListeners } from "node:events";
import { ApiError } from "../../../errors.js";
import type { GenerationChunk, GenerationResult } from "../provider.js";
import { UpstreamCallCancelled } from "./remote-call.js";
import { ZERO_USAGE } from "./stream-assembly.js";

/** A request's signal linked with its model's lifetime; `release()` drops the listeners. */
export interface LinkedSignal {
  signal: AbortSignal;
  release(): void;
}

/**
 * The lifetime of a loaded remote model: `unload()` aborts whatever is still in flight, so no
 * upstream connection outlives the model, and refuses new requests.
 *
 * Linking is done by hand rather than with `AbortSignal.any`, whose dependants stay referenced
 * by a long-lived source signal on Node 20 — a leak for a model serving many requests.
 */
export class RemoteModelLifetime {
  private readonly controller = new AbortController();

  constructor(private readonly model: string) {
    // One listener per in-flight request is the design, not a leak: without this, 11 concurrent
    // requests on one model print MaxListenersExceededWarning (seen under the gateway bench).
    setMaxListeners(0, this.controller.signal);
  }

  get unloaded(): boolean {
    return this.controller.signal.aborted;
  }

  link(callerSignal: AbortSignal | undefined): LinkedSignal {
    if (this.unloaded) {
      throw new ApiError("MODEL_NOT_LOADED", `model "${this.model}" was unloaded`, {
        details: { model: this.model },
      });
    }
    const linked = new AbortController();
    const sources = [this.controller.signal, ...(callerSignal ? [callerSignal] : [])];
    const abort = () => linked.abort();
    for (const source of sources) {
      if (source.aborted) linked.abort();
      else source.addEventListener("abort", abort, { once: true });
    }
    return {
      signal: linked.signal,
      release: () => {
        for (const source of sources) source.removeEventListener("abort", abort);
      },
    };
  }

  unload(): void {
    this.controller.abort();
  }
}

/**
 * Cancellation is not an error for our callers: a cancelled generation resolves with
 * `finishReason: "cancelled"` (empty text — a remote non-streaming answer is all or nothing).
 */
export async function resultOrCancelled(run: () => Promise<GenerationResult>): Promise<GenerationResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UpstreamCallCancelled)
      return { text: "", finishReason: "cancelled", usage: ZERO_USAGE };
    throw err;
  }
}

/** A cancelled stream ends with one last chunk `{ text: "", finishReason: "cancelled" }`. */
export async function* chunksOrCancelled(
  chunks: AsyncIterable<GenerationChunk>,
): AsyncGenerator<GenerationChunk> {
  try {
    yield* chunks;
  } catch (err) {
    if (!(err instanceof UpstreamCallCancelled)) throw err;
    yield { text: "", finishReason: "cancelled", usage: ZERO_USAGE };
  }
}
