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
 * In-flight requests are a set of abort callbacks rather than listeners on a lifetime signal:
 * `AbortSignal.any` keeps its dependants referenced by a long-lived source on Node 20 (a leak for
 * a model serving many requests), and an EventTarget listener added and removed per request was
 * a measurable share of a proxied request's CPU.
 */
export class RemoteModelLifetime {
  private isUnloaded = false;
  private readonly inFlight = new Set<() => void>();

  constructor(private readonly model: string) {}

  /** A signal that aborts with the caller's signal or with an unload. */
  link(callerSignal: AbortSignal | undefined): LinkedSignal {
    const linked = new AbortController();
    const untrack = this.track(linked);
    const abort = () => linked.abort();
    if (callerSignal?.aborted === true) linked.abort();
    else callerSignal?.addEventListener("abort", abort, { once: true });
    return {
      signal: linked.signal,
      release: () => {
        untrack();
        callerSignal?.removeEventListener("abort", abort);
      },
    };
  }

  /**
   * Aborts the caller's own controller on an unload, with MODEL_NOT_LOADED as the reason, until
   * the returned release is called. Cheaper than `link` (no second controller, no listener),
   * for a caller that owns its controller.
   */
  track(controller: AbortController): () => void {
    if (this.isUnloaded) throw this.unloadedError();
    const abort = () => controller.abort(this.unloadedError());
    this.inFlight.add(abort);
    return () => this.inFlight.delete(abort);
  }

  private unloadedError(): ApiError {
    return new ApiError("MODEL_NOT_LOADED", `model "${this.model}" was unloaded`, {
      details: { model: this.model },
    });
  }

  unload(): void {
    this.isUnloaded = true;
    for (const abort of [...this.inFlight]) abort();
    this.inFlight.clear();
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
