/**
 * OpenAI request bodies → our neutral GenerationRequest, and our results → OpenAI's response and
 * chunk shapes. Pure functions, no I/O.
 *
 * Logprobs: the providers report the sampled token's logprob and, when the client asked for
 * alternatives (`top_logprobs`), the most likely tokens at each position; with none asked for the
 * list is empty (chat) or null (completions).
 */
import { randomUUID } from "node:crypto";
import { ApiError, invalidRequest } from "../errors.js";
import type {
  ChatMessage,
  FinishReason,
  GenerationChunk,
  GenerationInput,
  GenerationRequest,
  GenerationResult,
  ModelCapabilities,
  SamplingParameters,
  TokenAlternative,
  TokenProbability,
  TokenUsage,
} from "../engine/providers/provider.js";
import type { ChatCompletionRequest, CompletionRequest, OpenAIChatMessage } from "./schemas.js";

/** OpenAI's legacy `/v1/completions` default; chat has none (the model's context is the limit). */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** What every response and chunk of one request shares. */
export interface ResponseContext {
  id: string;
  created: number;
  /** The model id as the client named it. */
  model: string;
}

export function responseContext(kind: "chat" | "completion", model: string): ResponseContext {
  const prefix = kind === "chat" ? "chatcmpl" : "cmpl";
  return {
    id: `${prefix}-${randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

// ---- requests ----------------------------------------------------------------------------------

function messageText(message: OpenAIChatMessage, index: number): string {
  const { content } = message;
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((part, j) => {
      if (part.type !== "text" || typeof part.text !== "string") {
        const path = `messages[${index}].content[${j}]`;
        const message = `only text content parts are supported, not "${part.type}"`;
        throw invalidRequest(`${path}: ${message}`, [{ path, message }]);
      }
      return part.text;
    })
    .join("\n");
}

function chatMessages(messages: readonly OpenAIChatMessage[]): ChatMessage[] {
  return messages.map((message, index) => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content: messageText(message, index) };
      case "user":
      case "assistant":
        return { role: message.role, content: messageText(message, index) };
      default: {
        const path = `messages[${index}].role`;
        const text = `"${message.role}" messages (tool calling) are not supported by this model`;
        throw invalidRequest(`${path}: ${text}`, [{ path, message: text }]);
      }
    }
  });
}

function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === null || stop === undefined) return undefined;
  const list = (typeof stop === "string" ? [stop] : stop).filter((s) => s.length > 0);
  return list.length > 0 ? list : undefined;
}

type CommonFields = Pick<
  ChatCompletionRequest,
  "temperature" | "top_p" | "stop" | "frequency_penalty" | "presence_penalty" | "seed"
>;

function sampling(body: CommonFields, maxTokens: number | undefined): SamplingParameters {
  return {
    maxTokens,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    stop: stopSequences(body.stop),
    frequencyPenalty: body.frequency_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    seed: body.seed ?? undefined,
  };
}

export function chatRequest(body: ChatCompletionRequest, signal: AbortSignal): GenerationRequest {
  return {
    input: { kind: "chat", messages: chatMessages(body.messages) },
    sampling: sampling(body, body.max_completion_tokens ?? body.max_tokens ?? undefined),
    logprobs: body.logprobs === true,
    ...(body.logprobs === true && (body.top_logprobs ?? 0) > 0
      ? { topLogprobs: body.top_logprobs ?? 0 }
      : {}),
    signal,
  };
}

/** A non-empty `suffix` makes the request fill-in-the-middle. */
export function isFim(body: CompletionRequest): boolean {
  return typeof body.suffix === "string" && body.suffix.length > 0;
}

export function promptOf(body: CompletionRequest): string {
  return typeof body.prompt === "string" ? body.prompt : (body.prompt[0] ?? "");
}

export function completionRequest(body: CompletionRequest, signal: AbortSignal): GenerationRequest {
  const prompt = promptOf(body);
  const input: GenerationInput = isFim(body)
    ? { kind: "fim", prefix: prompt, suffix: body.suffix ?? "" }
    : { kind: "completion", prompt };
  return {
    input,
    sampling: sampling(body, body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
    logprobs: body.logprobs !== null && body.logprobs !== undefined,
    ...((body.logprobs ?? 0) > 0 ? { topLogprobs: body.logprobs ?? 0 } : {}),
    signal,
  };
}

export type InputKind = GenerationInput["kind"];

/** The same refusals for every model, whether it is served by translation or passthrough. */
export function checkCapabilities(capabilities: ModelCapabilities, model: string, kind: InputKind): void {
  if (kind === "chat" && !capabilities.chat) {
    throw invalidRequest(`model '${model}' does not support chat; use /v1/completions`, [
      { path: "model", message: "chat is not supported by this model" },
    ]);
  }
  if (kind === "fim" && !capabilities.fim) {
    throw invalidRequest(`model '${model}' does not support fill-in-the-middle (suffix)`, [
      { path: "suffix", message: "fill-in-the-middle is not supported by this model" },
    ]);
  }
}

// ---- responses ---------------------------------------------------------------------------------

export type OpenAIFinishReason = "stop" | "length";

/** A failed generation is an error, never a finish reason; a cancelled one has no reader left. */
export function finishReasonOf(reason: FinishReason): OpenAIFinishReason {
  if (reason === "error") throw new ApiError("INTERNAL_ERROR", "the model failed while generating");
  return reason === "length" ? "length" : "stop";
}

export function usageOf(usage: TokenUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** The alternatives to list for one position: the provider's, else at least the sampled token. */
function alternativesOf(t: TokenProbability, alternatives: number): TokenAlternative[] {
  if (alternatives <= 0) return [];
  const { top, ...sampled } = t;
  return (top ?? [sampled]).slice(0, alternatives);
}

const utf8Bytes = (token: string) => [...Buffer.from(token, "utf8")];

/** The legacy shape keys alternatives by text: of two tokens that read alike, the likelier one stays. */
function alternativesByText(alternatives: readonly TokenAlternative[]): Record<string, number> {
  const byText = new Map<string, number>();
  for (const { token, logprob } of alternatives) if (!byText.has(token)) byText.set(token, logprob);
  // fromEntries defines own properties: a token spelled "__proto__" stays a key.
  return Object.fromEntries(byText);
}

/** OpenAI's `{token, logprob, bytes}`: the provider's bytes where the text lost them. */
const chatToken = ({ token, logprob, bytes }: TokenAlternative) => ({
  token,
  logprob,
  bytes: bytes ?? utf8Bytes(token),
});

export function chatLogprobs(tokens: readonly TokenProbability[], alternatives: number) {
  return {
    content: tokens.map((t) => ({
      ...chatToken(t),
      top_logprobs: alternativesOf(t, alternatives).map(chatToken),
    })),
    refusal: null,
  };
}

/** `text_offset` counts characters of the generated text from `startOffset`. */
export function completionLogprobs(
  tokens: readonly TokenProbability[],
  alternatives: number,
  startOffset: number,
) {
  let offset = startOffset;
  const textOffset = tokens.map(({ token }) => {
    const at = offset;
    offset += token.length;
    return at;
  });
  return {
    tokens: tokens.map((t) => t.token),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs:
      alternatives > 0 ? tokens.map((t) => alternativesByText(alternativesOf(t, alternatives))) : null,
    text_offset: textOffset,
  };
}

/** How many alternatives the client asked for, or undefined when it asked for no logprobs. */
export function chatAlternatives(body: ChatCompletionRequest): number | undefined {
  return body.logprobs === true ? (body.top_logprobs ?? 0) : undefined;
}

export function completionAlternatives(body: CompletionRequest): number | undefined {
  return body.logprobs ?? undefined;
}

export function chatCompletion(
  ctx: ResponseContext,
  result: GenerationResult,
  alternatives: number | undefined,
) {
  return {
    id: ctx.id,
    object: "chat.completion" as const,
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant" as const, content: result.text, refusal: null },
        logprobs:
          alternatives !== undefined && result.tokens ? chatLogprobs(result.tokens, alternatives) : null,
        finish_reason: finishReasonOf(result.finishReason),
      },
    ],
    usage: usageOf(result.usage),
  };
}

export function textCompletion(
  ctx: ResponseContext,
  result: GenerationResult,
  alternatives: number | undefined,
) {
  return {
    id: ctx.id,
    object: "text_completion" as const,
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        text: result.text,
        logprobs:
          alternatives !== undefined && result.tokens
            ? completionLogprobs(result.tokens, alternatives, 0)
            : null,
        finish_reason: finishReasonOf(result.finishReason),
      },
    ],
    usage: usageOf(result.usage),
  };
}

// ---- stream chunks -----------------------------------------------------------------------------

/** Turns one request's neutral chunks into OpenAI chunks of one endpoint's format. */
export interface ChunkFormat {
  /** Chunks sent before any text (chat announces the role). */
  opening(): unknown[];
  text(chunk: GenerationChunk): unknown;
  finish(reason: OpenAIFinishReason): unknown;
  /** The `include_usage` chunk: no choices, only usage. */
  usage(usage: TokenUsage): unknown;
}

export function chatChunkFormat(
  ctx: ResponseContext,
  alternatives: number | undefined,
  includeUsage: boolean,
): ChunkFormat {
  const chunk = (choices: unknown[], usage: unknown = null) => ({
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.created,
    model: ctx.model,
    choices,
    // With include_usage OpenAI sends `usage: null` on every chunk but the last.
    ...(includeUsage ? { usage } : {}),
  });
  const choice = (delta: object, logprobs: unknown, finish: OpenAIFinishReason | null) => ({
    index: 0,
    delta,
    logprobs,
    finish_reason: finish,
  });
  return {
    opening: () => [chunk([choice({ role: "assistant", content: "" }, null, null)])],
    text: ({ text, tokens }) =>
      chunk([
        choice(
          { content: text },
          alternatives !== undefined && tokens ? chatLogprobs(tokens, alternatives) : null,
          null,
        ),
      ]),
    finish: (reason) => chunk([choice({}, null, reason)]),
    usage: (usage) => chunk([], usageOf(usage)),
  };
}

export function completionChunkFormat(
  ctx: ResponseContext,
  alternatives: number | undefined,
  includeUsage: boolean,
): ChunkFormat {
  const chunk = (choices: unknown[], usage: unknown = null) => ({
    id: ctx.id,
    object: "text_completion",
    created: ctx.created,
    model: ctx.model,
    choices,
    ...(includeUsage ? { usage } : {}),
  });
  let offset = 0;
  return {
    opening: () => [],
    text: ({ text, tokens }) => {
      const logprobs =
        alternatives !== undefined && tokens ? completionLogprobs(tokens, alternatives, offset) : null;
      offset += text.length;
      return chunk([{ index: 0, text, logprobs, finish_reason: null }]);
    },
    finish: (reason) => chunk([{ index: 0, text: "", logprobs: null, finish_reason: reason }]),
    usage: (usage) => chunk([], usageOf(usage)),
  };
}
