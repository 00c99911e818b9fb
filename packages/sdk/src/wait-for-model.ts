import type { AiserviceClient } from "./client.js";
import { AiserviceError, CLIENT_ERROR_CODES } from "./errors.js";
import type { Model } from "./types.js";

/** How {@link waitForModelLoaded} polls. */
export interface WaitForModelOptions {
  /** Called with the model after every poll (its `status` and `progress {phase, percent}`). */
  onProgress?: (model: Model) => void;
  /**
   * Give up after this many ms with a TIMEOUT error (the load itself goes on). Default: no
   * client-side limit; the server cancels a load after its own `load_timeout_seconds`.
   */
  timeoutMs?: number;
  /** Time between polls in ms; default 250. */
  intervalMs?: number;
  /** Stops waiting early; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Default time between two polls of `GET /v1/ai/models/{id}`. */
export const DEFAULT_POLL_INTERVAL_MS = 250;

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function loadFailed(model: Model): AiserviceError {
  return new AiserviceError({
    code: CLIENT_ERROR_CODES.MODEL_LOAD_FAILED,
    message: `loading model '${model.id}' failed: ${model.error ?? "unknown error"}`,
    details: { model_id: model.id, status: model.status, error: model.error },
  });
}

/**
 * Polls `models.get` until the model is `loaded` and resolves with it. Call it after
 * `client.models.load(id)` (or `pull`). Throws an {@link AiserviceError}: MODEL_LOAD_FAILED when
 * the load ends in `error` or is cancelled (say, by the server's load timeout), MODEL_NOT_LOADING
 * when no load is under way, TIMEOUT after `timeoutMs`, and whatever `models.get` throws
 * (MODEL_NOT_FOUND, CONNECTION_ERROR…).
 *
 * @example
 * await client.models.load("tiny");
 * const model = await waitForModelLoaded(client, "tiny", {
 *   onProgress: (m) => console.log(m.progress?.phase, m.progress?.percent),
 * });
 */
export async function waitForModelLoaded(
  client: Pick<AiserviceClient, "models">,
  modelId: string,
  options: WaitForModelOptions = {},
): Promise<Model> {
  const intervalMs = Math.max(1, options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  for (;;) {
    const model = await client.models.get(modelId);
    options.onProgress?.(model);
    switch (model.status) {
      case "loaded":
        return model;
      case "loading":
        break;
      case "error":
        throw loadFailed(model);
      case "available":
      case "unloading":
        // A timed-out or cancelled load goes back to `available` with its reason recorded.
        if (model.error !== null) throw loadFailed(model);
        throw new AiserviceError({
          code: CLIENT_ERROR_CODES.MODEL_NOT_LOADING,
          message: `model '${modelId}' is not loading (status ${model.status}): request a load first`,
          details: { model_id: modelId, status: model.status },
        });
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new AiserviceError({
        code: CLIENT_ERROR_CODES.TIMEOUT,
        message: `model '${modelId}' was still ${model.status} after ${options.timeoutMs} ms`,
        details: { model_id: modelId, status: model.status, progress: model.progress },
      });
    }
    await delay(Math.min(intervalMs, remaining), options.signal);
  }
}
