import { upstreamError } from "../../upstream-errors.js";
import type { LoadedModel, LoadOptions, ModelProvider } from "../provider.js";
import { createOpenAIClient, listModels, OPENAI_SDK_ERRORS, openAIBaseUrl } from "./client.js";
import { OpenAICompatibleModel } from "./model.js";
import {
  RemoteCaller,
  type RetryBackoffOptions,
  retryPolicy,
  UpstreamCallCancelled,
} from "../remote/remote-call.js";

export interface OpenAICompatibleProviderOptions {
  /** Server root or API base: `http://host:8000` and `http://host:8000/v1` are the same. */
  baseUrl: string;
  apiKey?: string;
  /** The model id the server knows (as listed by its `/v1/models`). */
  model: string;
  /**
   * How long to wait for the upstream to start answering (response headers) a streaming
   * request or a model listing. Default 10 s.
   */
  connectTimeoutMs?: number;
  /**
   * The longest silence tolerated while reading an answer: between stream chunks, and for a
   * non-streaming request the whole wait for it (servers answer those only when done).
   * Default 120 s.
   */
  readTimeoutMs?: number;
  /** Retries after the first attempt on 429, 408/409, 5xx, resets and malformed answers. Default 2. */
  maxRetries?: number;
  retryBackoff?: RetryBackoffOptions;
  /** The server accepts `suffix` on `/v1/completions` for this model. Default false. */
  fim?: boolean;
  /** Overrides what `/v1/models` reports (vLLM's `max_model_len`); default 4096 when neither says. */
  contextLength?: number;
  /** The model serves `/v1/chat/completions`. Default true. */
  chat?: boolean;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_TIMEOUT_MS = 120_000;
const FALLBACK_CONTEXT_LENGTH = 4096;

/** Any OpenAI-compatible server: vLLM, Ollama (`/v1`), llama.cpp server, LM Studio, OpenAI, OpenRouter. */
export class OpenAICompatibleProvider implements ModelProvider {
  readonly kind = "openai-compatible" as const;

  constructor(private readonly options: OpenAICompatibleProviderOptions) {}

  /** Checks that the server answers and serves the model; nothing is loaded locally. */
  async load(options: LoadOptions = {}): Promise<LoadedModel> {
    const { model } = this.options;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const readTimeoutMs = this.options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    const client = createOpenAIClient({
      baseUrl: this.options.baseUrl,
      apiKey: this.options.apiKey,
      connectTimeoutMs,
      readTimeoutMs,
    });
    const caller = new RemoteCaller(
      retryPolicy(this.options.maxRetries, this.options.retryBackoff),
      OPENAI_SDK_ERRORS,
      {
        provider: "openai-compatible",
        model,
      },
    );
    options.onProgress?.({ phase: "load", fraction: 0 });
    const signal = options.signal ?? new AbortController().signal;
    let listed: Awaited<ReturnType<typeof listModels>>;
    try {
      listed = await caller.call(() => listModels(client, signal, connectTimeoutMs), {
        signal,
        responseTimeoutMs: connectTimeoutMs,
      });
    } catch (err) {
      // A cancelled load rethrows the signal's reason (an AbortError by default), as fetch does.
      if (err instanceof UpstreamCallCancelled) throw signal.reason;
      throw err;
    }
    const entry = listed.find((m) => m.id === model);
    if (!entry) {
      const available = listed.map((m) => m.id);
      throw upstreamError(
        `model "${model}" is not served by ${openAIBaseUrl(this.options.baseUrl)} (it serves: ${available.slice(0, 10).join(", ") || "nothing"})`,
        { provider: "openai-compatible", model, status: 404, available: available.slice(0, 50) },
      );
    }
    options.onProgress?.({ phase: "load", fraction: 1 });
    const capabilities = {
      chat: this.options.chat ?? true,
      fim: this.options.fim ?? false,
      logprobs: true,
      contextLength: this.options.contextLength ?? entry.contextLength ?? FALLBACK_CONTEXT_LENGTH,
    };
    return new OpenAICompatibleModel(client, caller, capabilities, {
      model,
      connectTimeoutMs,
      readTimeoutMs,
    });
  }

  /** Remote models take no local memory. */
  async estimateSizeBytes(): Promise<number> {
    return 0;
  }
}
