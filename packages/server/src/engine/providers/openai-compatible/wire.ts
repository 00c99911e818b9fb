/**
 * Translation between our neutral request/result and the OpenAI wire format
 * (`/v1/chat/completions` and `/v1/completions`). Pure functions, no I/O.
 *
 * The SDK's response types promise fields a misbehaving server may not send, so readers here
 * check shapes and throw UpstreamProtocolError instead of returning an empty answer.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionTokenLogprob,
} from "openai/resources/chat/completions";
import type { Completion, CompletionUsage } from "openai/resources/completions";
import type {
  ChatMessage,
  FinishReason,
  GenerationRequest,
  GenerationResult,
  SamplingParameters,
  TokenAlternative,
  TokenProbability,
  TokenUsage,
} from "../provider.js";
import { UpstreamProtocolError } from "../remote/remote-call.js";
import { type StreamPiece, ZERO_USAGE } from "../remote/stream-assembly.js";

/** Sampling fields shared by both endpoints; `undefined` ones are dropped by JSON.stringify. */
export function samplingFields(sampling: SamplingParameters = {}) {
  return {
    max_tokens: sampling.maxTokens,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    stop: sampling.stop && sampling.stop.length > 0 ? sampling.stop : undefined,
    frequency_penalty: sampling.frequencyPenalty,
    presence_penalty: sampling.presencePenalty,
    seed: sampling.seed,
  };
}

export function chatBody(model: string, messages: ChatMessage[], request: GenerationRequest) {
  return {
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    ...samplingFields(request.sampling),
    ...(request.logprobs ? { logprobs: true } : {}),
    ...(request.logprobs && (request.topLogprobs ?? 0) > 0 ? { top_logprobs: request.topLogprobs } : {}),
  };
}

/** A raw completion, or FIM when `suffix` is given (the server must support `suffix`). */
export function completionBody(
  model: string,
  prompt: string,
  suffix: string | undefined,
  request: GenerationRequest,
) {
  return {
    model,
    prompt,
    ...(suffix === undefined ? {} : { suffix }),
    ...samplingFields(request.sampling),
    // The legacy API's `logprobs: n` is "the sampled token plus n alternatives"; without
    // alternatives asked for, 1 is what every server accepts (some refuse 0).
    ...(request.logprobs ? { logprobs: Math.max(1, request.topLogprobs ?? 0) } : {}),
  };
}

export function finishReasonOf(reason: string | null | undefined): FinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  // content_filter, tool_calls, function_call: the model stopped on its own terms.
  return reason === "length" ? "length" : "stop";
}

export function usageOf(usage: CompletionUsage | null | undefined): TokenUsage | undefined {
  if (!usage) return undefined;
  return { promptTokens: usage.prompt_tokens ?? 0, completionTokens: usage.completion_tokens ?? 0 };
}

/** `top` alternatives when asked for (`topLogprobs` > 0) and the server sent some. */
function withTop(
  token: TokenProbability,
  alternatives: TokenAlternative[],
  topLogprobs: number,
): TokenProbability {
  const top = alternatives.slice(0, topLogprobs);
  return top.length > 0 ? { ...token, top } : token;
}

/** A chat logprobs entry; its `bytes` kept only where they are not simply the text's UTF-8. */
function chatToken(entry: { token: string; logprob: number; bytes?: number[] | null }): TokenAlternative {
  const { token, logprob, bytes } = entry;
  const own = Array.isArray(bytes) && !Buffer.from(bytes).equals(Buffer.from(token, "utf8"));
  return own ? { token, logprob, bytes } : { token, logprob };
}

function chatTokens(
  content: ChatCompletionTokenLogprob[] | null | undefined,
  topLogprobs: number,
): TokenProbability[] | undefined {
  if (!Array.isArray(content)) return undefined;
  return content.map((entry) => {
    const alternatives = Array.isArray(entry.top_logprobs) ? entry.top_logprobs.map(chatToken) : [];
    return withTop(chatToken(entry), alternatives, topLogprobs);
  });
}

function completionTokens(
  logprobs: Completion["choices"][number]["logprobs"] | undefined,
  topLogprobs: number,
): TokenProbability[] | undefined {
  const tokens = logprobs?.tokens;
  const values = logprobs?.token_logprobs;
  if (!Array.isArray(tokens) || !Array.isArray(values)) return undefined;
  const alternatives = Array.isArray(logprobs?.top_logprobs) ? logprobs.top_logprobs : [];
  // A null logprob (the first token of an echoed prompt) has no probability to report.
  return tokens.flatMap((token, i) => {
    const logprob = values[i];
    if (typeof logprob !== "number") return [];
    // The legacy shape keys alternatives by their text, in no promised order.
    const ranked = Object.entries(alternatives[i] ?? {})
      .filter((entry): entry is [string, number] => typeof entry[1] === "number")
      .sort(([, a], [, b]) => b - a)
      .map(([text, value]) => ({ token: text, logprob: value }));
    return [withTop({ token, logprob }, ranked, topLogprobs)];
  });
}

function firstChoice<T>(choices: T[] | undefined, what: string): T {
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  if (choice === undefined || choice === null || typeof choice !== "object") {
    throw new UpstreamProtocolError(`${what} has no choices`);
  }
  return choice;
}

function result(
  text: unknown,
  finish: string | null | undefined,
  usage: CompletionUsage | undefined,
  tokens: TokenProbability[] | undefined,
  wantTokens: boolean,
): GenerationResult {
  if (typeof text !== "string") throw new UpstreamProtocolError("the answer has no text");
  return {
    text,
    finishReason: finishReasonOf(finish) ?? "stop",
    usage: usageOf(usage) ?? ZERO_USAGE,
    ...(wantTokens && tokens ? { tokens } : {}),
  };
}

export function chatResult(
  completion: ChatCompletion,
  wantTokens: boolean,
  topLogprobs = 0,
): GenerationResult {
  const choice = firstChoice(completion?.choices, "the chat completion");
  // Some servers send `content: null` for an empty answer.
  const text = choice.message?.content ?? (choice.message ? "" : undefined);
  return result(
    text,
    choice.finish_reason,
    completion.usage,
    chatTokens(choice.logprobs?.content, topLogprobs),
    wantTokens,
  );
}

export function completionResult(
  completion: Completion,
  wantTokens: boolean,
  topLogprobs = 0,
): GenerationResult {
  const choice = firstChoice(completion?.choices, "the completion");
  return result(
    choice.text,
    choice.finish_reason,
    completion.usage,
    completionTokens(choice.logprobs, topLogprobs),
    wantTokens,
  );
}

function piece(
  text: string | null | undefined,
  tokens: TokenProbability[] | undefined,
  finish: string | null | undefined,
  usage: CompletionUsage | null | undefined,
  wantTokens: boolean,
): StreamPiece {
  const finishReason = finishReasonOf(finish);
  const mappedUsage = usageOf(usage);
  return {
    text: text ?? "",
    ...(wantTokens && tokens && tokens.length > 0 ? { tokens } : {}),
    ...(finishReason ? { finishReason } : {}),
    ...(mappedUsage ? { usage: mappedUsage } : {}),
  };
}

export function chatPiece(chunk: ChatCompletionChunk, wantTokens: boolean, topLogprobs = 0): StreamPiece {
  if (chunk === null || typeof chunk !== "object")
    throw new UpstreamProtocolError("a stream chunk is not an object");
  // With `include_usage` the last chunk has `choices: []` and only usage.
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  return piece(
    choice?.delta?.content,
    chatTokens(choice?.logprobs?.content, topLogprobs),
    choice?.finish_reason,
    chunk.usage,
    wantTokens,
  );
}

export function completionPiece(chunk: Completion, wantTokens: boolean, topLogprobs = 0): StreamPiece {
  if (chunk === null || typeof chunk !== "object")
    throw new UpstreamProtocolError("a stream chunk is not an object");
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  return piece(
    choice?.text,
    completionTokens(choice?.logprobs, topLogprobs),
    choice?.finish_reason,
    chunk.usage,
    wantTokens,
  );
}
