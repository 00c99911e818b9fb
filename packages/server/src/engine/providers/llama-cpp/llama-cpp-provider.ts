/**
 * The embedded provider: GGUF models run in-process by llama.cpp through node-llama-cpp.
 */
import { stat } from "node:fs/promises";
import { InsufficientMemoryError, type Llama, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import type { LoadedModel, LoadOptions, ModelProvider } from "../provider.js";
import { LlamaCppModel } from "./llama-cpp-model.js";
import { exclusiveLoad, resolveThreads, sharedLlama } from "./llama-runtime.js";
import { insufficientMemory } from "./load-errors.js";
import { classifyLoadFailure, inspectModelFile } from "./model-file.js";
import { cachedModelFile, isRemoteSource, resolveModelSource } from "./model-source.js";

export interface LlamaCppProviderOptions {
  /** A local GGUF path, an `hf:` URI or an http(s) URL. */
  source: string;
  /** Where remote sources are downloaded to (and found again on the next load). */
  cacheDir: string;
  /** CPU threads for this model's evaluations; default: physical cores, never above logical cores. */
  threads?: number;
  /** Tokens per sequence; default: the model's training context, at most 4096. */
  contextSize?: number;
  /** Layers offloaded to a GPU; 0 keeps the model on the CPU. Default "auto". */
  gpuLayers?: number | "auto";
  /** Requests served at once from one context; more wait in line. Default 4. */
  parallelSequences?: number;
  /** How long the reachability check before a download may take. Default 4000 ms. */
  downloadCheckTimeoutMs?: number;
  /** Hugging Face mirror for `hf:` sources (default https://huggingface.co/). */
  huggingFaceEndpoint?: string;
}

const DEFAULT_MAX_CONTEXT = 4096;
const DEFAULT_PARALLEL_SEQUENCES = 4;

export class LlamaCppProvider implements ModelProvider {
  readonly kind = "llama-cpp" as const;

  constructor(private readonly options: LlamaCppProviderOptions) {}

  /** File size of the GGUF when it is on disk already; never touches the network. */
  async estimateSizeBytes(): Promise<number | undefined> {
    const path = isRemoteSource(this.options.source)
      ? await cachedModelFile(this.options)
      : this.options.source;
    if (path === undefined) return undefined;
    try {
      return (await stat(path)).size;
    } catch {
      return undefined;
    }
  }

  async load(options: LoadOptions = {}): Promise<LoadedModel> {
    const { signal, onProgress } = options;
    const path = await resolveModelSource(this.options, { signal, onProgress });
    const llama = await sharedLlama(this.options.gpuLayers !== 0);
    const facts = await inspectModelFile(path, llama);
    signal?.throwIfAborted();
    onProgress?.({ phase: "load", fraction: 0 });

    return exclusiveLoad(async (llamaErrors) => {
      const before = await usedMemory(llama);
      let model: LlamaModel;
      try {
        model = await llama.loadModel({
          modelPath: path,
          gpuLayers: this.options.gpuLayers ?? "auto",
          loadSignal: signal,
          onLoadProgress: (fraction) => onProgress?.({ phase: "load", fraction: fraction * 0.9 }),
        });
      } catch (err) {
        signal?.throwIfAborted();
        if (err instanceof InsufficientMemoryError) throw insufficientMemory(path, err);
        throw classifyLoadFailure(path, err, await llamaErrors());
      }

      let context: LlamaContext;
      try {
        context = await model.createContext({
          contextSize:
            this.options.contextSize ??
            Math.min(facts.trainContextSize ?? DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT),
          sequences: this.options.parallelSequences ?? DEFAULT_PARALLEL_SEQUENCES,
          threads: resolveThreads(this.options.threads),
          createSignal: signal,
        });
        signal?.throwIfAborted();
      } catch (err) {
        await model.dispose();
        signal?.throwIfAborted();
        if (err instanceof InsufficientMemoryError) throw insufficientMemory(path, err);
        throw err;
      }

      const measured = (await usedMemory(llama)) - before;
      onProgress?.({ phase: "load", fraction: 1 });
      // The weights are resident for sure (llama.cpp prefetches the mapping); a process-wide
      // counter can still under-report (another request freeing memory meanwhile): they are the floor.
      const memoryBytes = Math.max(measured, model.size);
      return new LlamaCppModel(
        model,
        context,
        memoryBytes,
        this.options.parallelSequences ?? DEFAULT_PARALLEL_SEQUENCES,
      );
    });
  }
}

/**
 * Memory outside the JavaScript heap (resident set minus V8's heap and the ArrayBuffers it
 * tracks: llama.cpp's buffers, the KV cache and the memory-mapped weights it touched) plus what
 * the GPU reports in use. Subtracting the JS side keeps a garbage collection during the load —
 * freeing megabytes of unrelated buffers — out of the difference; the load lock keeps other
 * loads out of it.
 */
async function usedMemory(llama: Llama): Promise<number> {
  const vram = llama.gpu === false ? 0 : (await llama.getVramState()).used;
  const { rss, heapTotal, external } = process.memoryUsage();
  return rss - heapTotal - external + vram;
}
