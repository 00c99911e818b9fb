import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LlamaCppProvider,
  type LlamaCppProviderOptions,
} from "../../../src/engine/providers/llama-cpp/index.js";
import type {
  GenerationChunk,
  GenerationRequest,
  LoadedModel,
} from "../../../src/engine/providers/provider.js";
import { type TinyLlamaModelOptions, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";

/** Every test runs llama.cpp on one thread and never on a GPU: CI has two cores and no GPU. */
export const CPU_ONE_THREAD = { threads: 1, gpuLayers: 0 } as const;

export async function tempCacheDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "aiservice-llama-cache-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function tinyProvider(
  cacheDir: string,
  options: Partial<LlamaCppProviderOptions> = {},
  model: TinyLlamaModelOptions = {},
): Promise<LlamaCppProvider> {
  return new LlamaCppProvider({
    source: await tinyLlamaModelPath(model),
    cacheDir,
    contextSize: 512,
    ...CPU_ONE_THREAD,
    ...options,
  });
}

export async function collect(stream: AsyncIterable<GenerationChunk>): Promise<GenerationChunk[]> {
  const chunks: GenerationChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** A stream opened and advanced to its first chunk: it then holds a sequence until drained. */
export async function openStream(model: LoadedModel, request: GenerationRequest) {
  const iterator = model.stream(request)[Symbol.asyncIterator]();
  return {
    iterator,
    first: iterator.next(),
    async drain(): Promise<GenerationChunk[]> {
      const chunks: GenerationChunk[] = [];
      for (let step = await iterator.next(); step.done !== true; step = await iterator.next())
        chunks.push(step.value);
      return chunks;
    },
  };
}

export async function expectApiError(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; message: string; details?: Record<string, unknown>; name: string };
    if (e.name !== "ApiError") throw err;
    return { code: e.code ?? "", message: e.message, details: e.details ?? {} };
  }
  throw new Error("expected an ApiError, but the promise resolved");
}
