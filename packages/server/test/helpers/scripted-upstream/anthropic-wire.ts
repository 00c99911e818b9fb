import { IN_STREAM_ERROR_MESSAGE, type StreamFrames, sseFrame } from "./openai-wire.js";
import type { ReplyPlan } from "./reply-plan.js";

function stopReason(plan: ReplyPlan): string {
  if (plan.finish === "length") return "max_tokens";
  return plan.stopSequence === undefined ? "end_turn" : "stop_sequence";
}

export function message(plan: ReplyPlan): unknown {
  return {
    id: "msg_scripted",
    type: "message",
    role: "assistant",
    model: plan.model,
    content: [{ type: "text", text: plan.pieces.join("") }],
    stop_reason: stopReason(plan),
    stop_sequence: plan.stopSequence ?? null,
    usage: { input_tokens: plan.promptTokens, output_tokens: plan.completionTokens },
  };
}

/** The event sequence of the Messages streaming API (see Anthropic's "Streaming Messages"). */
export function messageFrames(plan: ReplyPlan): StreamFrames {
  return {
    head: [
      sseFrame(
        {
          type: "message_start",
          message: {
            id: "msg_scripted",
            type: "message",
            role: "assistant",
            model: plan.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: plan.promptTokens, output_tokens: 1 },
          },
        },
        "message_start",
      ),
      sseFrame(
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        "content_block_start",
      ),
      sseFrame({ type: "ping" }, "ping"),
    ],
    content: plan.pieces.map((text) =>
      sseFrame(
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
        "content_block_delta",
      ),
    ),
    tail: [
      sseFrame({ type: "content_block_stop", index: 0 }, "content_block_stop"),
      sseFrame(
        {
          type: "message_delta",
          delta: { stop_reason: stopReason(plan), stop_sequence: plan.stopSequence ?? null },
          usage: { output_tokens: plan.completionTokens },
        },
        "message_delta",
      ),
      sseFrame({ type: "message_stop" }, "message_stop"),
    ],
    error: sseFrame(anthropicError(529, IN_STREAM_ERROR_MESSAGE), "error"),
  };
}

export function anthropicError(status: number, message: string): unknown {
  const type =
    status === 429
      ? "rate_limit_error"
      : status === 529
        ? "overloaded_error"
        : status >= 500
          ? "api_error"
          : status === 404
            ? "not_found_error"
            : "invalid_request_error";
  return { type: "error", error: { type, message } };
}
