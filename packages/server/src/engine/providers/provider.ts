/**
 * The one provider interface (DESIGN.md "One provider interface"). Everything above engine/
 * speaks this neutral request; each provider translates it to its runtime or wire format.
 */
import type { CallAbort } from "./call-abort.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface SamplingParameters {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /** Generation stops before any of these strings; they are not part of the text. */
  stop?: string[];
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
}

/** Either a chat conversation or a fill-in-the-middle pair — never both. */
export type GenerationInput =
  | { kind: "chat"; messages: ChatMessage[] }
  | { kind: "fim"; prefix: string; suffix: string }
  /** A raw prompt completed as-is (OpenAI `/v1/completions` without suffix). */
  | { kind: "completion"; prompt: string };

export interface GenerationRequest {
  input: GenerationInput;
  sampling?: SamplingParameters;
  /** Ask for per-token probabilities (may be unsupported: then `tokens` stays undefined). */
  logprobs?: boolean;
  /**
   * With `logprobs`: how many of the most likely tokens to report at each position as well
   * (OpenAI's `top_logprobs`, 0–20). Every provider that reports logprobs reports these.
   */
  topLogprobs?: number;
  signal?: AbortSignal;
}

export type FinishReason = "stop" | "length" | "cancelled" | "error";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface TokenAlternative {
  token: string;
  /** Natural-log probability the model gave this token at that position. */
  logprob: number;
  /**
   * The token's own bytes, when its text cannot carry them: a token holding part of a UTF-8
   * character reads as U+FFFD. Absent when they are the text's UTF-8.
   */
  bytes?: number[];
}

export interface TokenProbability extends TokenAlternative {
  /** The `topLogprobs` most likely tokens at this position, most likely first, when asked for. */
  top?: TokenAlternative[];
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** Per generated token, when the runtime reports them and `logprobs` was asked for. */
  tokens?: TokenProbability[];
}

/** One streamed piece; the final chunk carries `finishReason` and `usage`. */
export interface GenerationChunk {
  text: string;
  tokens?: TokenProbability[];
  finishReason?: FinishReason;
  usage?: TokenUsage;
}

export interface ModelCapabilities {
  chat: boolean;
  fim: boolean;
  logprobs: boolean;
  contextLength: number;
}

/** Progress of a load (download then load), for `status: loading` and CLI progress bars. */
export interface LoadProgress {
  phase: "download" | "load";
  /** 0..1 when known. */
  fraction?: number;
  downloadedBytes?: number;
  totalBytes?: number;
}

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

/** The OpenAI-format endpoints (relative to the API base, e.g. `/v1`) a passthrough forwards to. */
export type PassthroughPath = "chat/completions" | "completions";

/** A model in memory (or a checked remote endpoint), ready to serve requests. */
export interface LoadedModel {
  readonly capabilities: ModelCapabilities;
  /** Memory the load actually took, in bytes (0 for remote models). */
  readonly memoryBytes: number;
  generate(request: GenerationRequest): Promise<GenerationResult>;
  stream(request: GenerationRequest): AsyncIterable<GenerationChunk>;
  /** Frees the memory; in-flight requests are the registry's business, not the provider's. */
  unload(): Promise<void>;
  /**
   * Only for models whose upstream itself speaks the OpenAI wire format: forwards an OpenAI
   * request body unchanged but for `model` (rewritten to the upstream's name) and answers with
   * the upstream's own response, its body (JSON or SSE) not parsed, so an OpenAI-compatible
   * route adds as little as possible. Failures before the upstream answered 2xx throw typed
   * errors as `generate` does; the body is the caller's to read to the end or cancel.
   * Aborting `abort` closes the upstream connection at any point; the model aborts it itself,
   * with a MODEL_NOT_LOADED ApiError as the reason, when it is unloaded meanwhile (one controller
   * for both: this path is the gateway's hot path).
   */
  passthrough?(
    path: PassthroughPath,
    body: Record<string, unknown>,
    abort: CallAbort,
  ): Promise<PassthroughAnswer>;
}

/** An upstream's 2xx answer to a passthrough, its body still to be read. */
export interface PassthroughAnswer {
  status: number;
  contentType: string;
  /** The body's length when the upstream said it (passed on: no chunked framing for JSON). */
  contentLength?: number;
  /** The body's chunks as received (no copy, no decoding); a failure while reading is typed. */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the upstream connection (a client that went away). */
  cancel(): void;
}

/** How one model is reached: what the registry needs to load it. */
export interface ModelProvider {
  readonly kind: "llama-cpp" | "openai-compatible" | "anthropic";
  load(options?: LoadOptions): Promise<LoadedModel>;
  /** Size hint in bytes for load-time estimates and memory budgets (file size for GGUF). */
  estimateSizeBytes(): Promise<number | undefined>;
}
