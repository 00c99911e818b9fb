import { join } from "node:path";
import type { ModelEntry } from "./model-config.js";
import { AnthropicProvider } from "./providers/anthropic/index.js";
import { LlamaCppProvider } from "./providers/llama-cpp/index.js";
import { OpenAICompatibleProvider } from "./providers/openai-compatible/index.js";
import type { ModelProvider } from "./providers/provider.js";

/** Where downloaded GGUF files live: inside the data dir, so one directory holds all state. */
export function modelCacheDir(dataDir: string): string {
  return join(dataDir, "models");
}

/**
 * The one place that knows every provider: turns a config entry into its provider. Creating a
 * provider does no I/O; loading does.
 */
export function createProvider(entry: ModelEntry, context: { dataDir: string }): ModelProvider {
  const defined = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  switch (entry.provider) {
    case "llama-cpp":
      return new LlamaCppProvider(
        defined({
          source: entry.source,
          cacheDir: modelCacheDir(context.dataDir),
          threads: entry.threads,
          contextSize: entry.context_length,
          gpuLayers: entry.gpu_layers,
          parallelSequences: entry.parallel_sequences,
        }),
      );
    case "openai-compatible":
      return new OpenAICompatibleProvider(
        defined({
          baseUrl: entry.base_url,
          apiKey: entry.api_key,
          model: entry.model ?? entry.id,
          fim: entry.fim,
          contextLength: entry.context_length,
          connectTimeoutMs: entry.connect_timeout_ms,
          readTimeoutMs: entry.read_timeout_ms,
          maxRetries: entry.max_retries,
        }),
      );
    case "anthropic":
      return new AnthropicProvider(
        defined({
          apiKey: entry.api_key,
          model: entry.model ?? entry.id,
          baseUrl: entry.base_url,
          contextLength: entry.context_length,
          maxRetries: entry.max_retries,
          timeouts: entry.read_timeout_ms === undefined ? undefined : { readMs: entry.read_timeout_ms },
        }),
      );
  }
}
