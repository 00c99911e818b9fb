/**
 * Translation between our neutral request/result and the Anthropic Messages API. Pure
 * functions (and one small stream state machine), no I/O.
 */
import type { Message, RawMessageStreamEvent } from "@anthropic-ai/sdk/resources/messages";
import { invalidRequest } from "../../../errors.js";
import { UpstreamProtocolError } from "../remote/remote-call.js";
import type { StreamPiece } from "../remote/stream-assembly.js";
import type {
  ChatMessage,
  FinishReason,
  GenerationResult,
  SamplingParameters,
  TokenUsage,
} from "../provider.js";

/**
 * System messages become the `system` field (joined, in order); the rest are the turns.
 * Sampling differences: Anthropic's temperature range is 0..1 (ours follows OpenAI's 0..2, so it
 * is clamped); recent Claude models reject temperature and top_p together, so top_p is sent
 * only without a temperature; frequency/presence penalties and seed have no equivalent.
 */
export function messagesBody(
  model: string,
  messages: ChatMessage[],
  sampling: SamplingParameters,
  maxTokensDefault: number,
) {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n\n");
  const turns = messages.flatMap((m) => (m.role === "system" ? [] : [{ role: m.role, content: m.content }]));
  if (turns.length === 0) throw invalidRequest("a chat needs at least one user or assistant message");
  return {
    model,
    max_tokens: sampling.maxTokens ?? maxTokensDefault,
    messages: turns,
    ...(system ? { system } : {}),
    ...(sampling.stop && sampling.stop.length > 0 ? { stop_sequences: sampling.stop } : {}),
    ...(sampling.temperature !== undefined
      ? { temperature: Math.min(1, Math.max(0, sampling.temperature)) }
      : sampling.topP !== undefined
        ? { top_p: sampling.topP }
        : {}),
  };
}

export function finishReasonOf(stopReason: string | null | undefined): FinishReason {
  // end_turn, stop_sequence, refusal, pause_turn, tool_use: the model stopped on its own terms.
  return stopReason === "max_tokens" || stopReason === "model_context_window_exceeded" ? "length" : "stop";
}

interface AnthropicUsage {
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Prompt tokens include cached ones: the model read them all. */
function promptTokensOf(usage: AnthropicUsage | undefined): number {
  return (
    (usage?.input_tokens ?? 0) +
    (usage?.cache_creation_input_tokens ?? 0) +
    (usage?.cache_read_input_tokens ?? 0)
  );
}

export function messageResult(message: Message): GenerationResult {
  if (message === null || typeof message !== "object" || !Array.isArray(message.content)) {
    throw new UpstreamProtocolError("the message has no content");
  }
  const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
  return {
    text,
    finishReason: finishReasonOf(message.stop_reason),
    usage: {
      promptTokens: promptTokensOf(message.usage),
      completionTokens: message.usage?.output_tokens ?? 0,
    },
  };
}

/**
 * Follows one stream's events. Only `message_stop` completes the answer: a stream that ends
 * before it (even after `message_delta`) was cut short.
 */
export class MessageStreamTranslator {
  private usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  private stopReason: string | null = null;

  piece(event: RawMessageStreamEvent): StreamPiece {
    if (event === null || typeof event !== "object")
      throw new UpstreamProtocolError("a stream event is not an object");
    switch (event.type) {
      case "message_start":
        this.usage = {
          promptTokens: promptTokensOf(event.message?.usage),
          completionTokens: event.message?.usage?.output_tokens ?? 0,
        };
        return { text: "" };
      case "content_block_delta":
        return { text: event.delta?.type === "text_delta" ? event.delta.text : "" };
      case "message_delta":
        this.stopReason = event.delta?.stop_reason ?? this.stopReason;
        this.usage = {
          promptTokens:
            event.usage?.input_tokens == null ? this.usage.promptTokens : promptTokensOf(event.usage),
          completionTokens: event.usage?.output_tokens ?? this.usage.completionTokens,
        };
        return { text: "" };
      case "message_stop":
        return { text: "", finishReason: finishReasonOf(this.stopReason), usage: this.usage };
      default:
        return { text: "" };
    }
  }
}
