import Anthropic from "@anthropic-ai/sdk";
import { isApiError } from "../../../errors.js";
import { upstreamError } from "../../upstream-errors.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS } from "../openai-compatible/provider.js";
import { fetchWithReadTimeout } from "../remote/read-timeout-fetch.js";
import {
  RemoteCaller,
  type RetryBackoffOptions,
  retryPolicy,
  type SdkErrorClasses,
  UpstreamCallCancelled,
} from "../remote/remote-call.js";
import type { LoadedModel, LoadOptions, ModelProvider } from "../provider.js";
import { AnthropicModel } from "./model.js";

export interface AnthropicTimeouts {
  /** Wait for response headers of a streaming request or a model lookup. Default 10 s. */
  connectMs?: number;
  /** Longest silence while reading; for a non-streaming request, the whole wait. Default 120 s. */
  readMs?: number;
}

export interface AnthropicProviderOptions {
  apiKey: string;
  /** A Claude model id or alias, e.g. `claude-sonnet-4-5`. */
  model: string;
  /** Default `https://api.anthropic.com` (the SDK appends `/v1/messages`). */
  baseUrl?: string;
  timeouts?: AnthropicTimeouts;
  /** Retries after the first attempt on 429, 408/409, 5xx (529 overloaded), resets. Default 2. */
  maxRetries?: number;
  retryBackoff?: RetryBackoffOptions;
  /** `max_tokens` when a request sets none (the API requires one). Default 4096. */
  maxTokensDefault?: number;
  /** Default 200 000 (current Claude models). */
  contextLength?: number;
}

const ANTHROPIC_SDK_ERRORS: SdkErrorClasses = {
  APIError: Anthropic.APIError,
  APIConnectionError: Anthropic.APIConnectionError,
  APIConnectionTimeoutError: Anthropic.APIConnectionTimeoutError,
  APIUserAbortError: Anthropic.APIUserAbortError,
};

export class AnthropicProvider implements ModelProvider {
  readonly kind = "anthropic" as const;

  constructor(private readonly options: AnthropicProviderOptions) {}

  /** Checks the key and the model with `GET /v1/models/{model}` (aliases resolve there too). */
  async load(options: LoadOptions = {}): Promise<LoadedModel> {
    const { model } = this.options;
    const connectTimeoutMs = this.options.timeouts?.connectMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const readTimeoutMs = this.options.timeouts?.readMs ?? DEFAULT_READ_TIMEOUT_MS;
    const client = new Anthropic({
      apiKey: this.options.apiKey,
      baseURL: this.options.baseUrl ?? "https://api.anthropic.com",
      maxRetries: 0,
      timeout: connectTimeoutMs,
      fetch: fetchWithReadTimeout(readTimeoutMs),
      // Failures surface as typed errors logged once by our error handler, not via the SDK's console.
      logLevel: "off",
    });
    const caller = new RemoteCaller(
      retryPolicy(this.options.maxRetries, this.options.retryBackoff),
      ANTHROPIC_SDK_ERRORS,
      { provider: "anthropic", model },
    );
    options.onProgress?.({ phase: "load", fraction: 0 });
    const signal = options.signal ?? new AbortController().signal;
    try {
      await caller.call(() => client.models.retrieve(model, {}, { signal, timeout: connectTimeoutMs }), {
        signal,
        responseTimeoutMs: connectTimeoutMs,
      });
    } catch (err) {
      if (err instanceof UpstreamCallCancelled) throw signal.reason;
      if (isApiError(err) && err.details.status === 404) {
        throw upstreamError(`Anthropic does not know model "${model}"`, { ...err.details }, err);
      }
      throw err;
    }
    options.onProgress?.({ phase: "load", fraction: 1 });
    const capabilities = {
      chat: true,
      fim: false,
      logprobs: false,
      contextLength: this.options.contextLength ?? 200_000,
    };
    return new AnthropicModel(client, caller, capabilities, {
      model,
      connectTimeoutMs,
      readTimeoutMs,
      maxTokensDefault: this.options.maxTokensDefault ?? 4096,
    });
  }

  async estimateSizeBytes(): Promise<number> {
    return 0;
  }
}
