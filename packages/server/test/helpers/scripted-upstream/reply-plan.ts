import { type Behaviour, DEFAULT_REPLY, type ReceivedRequest, splitIntoTokens } from "./behaviour.js";

/** What the upstream will answer, before it is rendered in a wire format. */
export interface ReplyPlan {
  model: string;
  /** The reply as tokens (see `splitIntoTokens`), already cut by `stop` and `max_tokens`. */
  pieces: string[];
  finish: "stop" | "length";
  /** The stop sequence that cut the reply, if any (Anthropic reports it). */
  stopSequence: string | undefined;
  promptTokens: number;
  completionTokens: number;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part !== null && typeof part === "object" && "text" in part ? String(part.text) : ""))
      .join("");
  }
  return "";
}

/** All prompt text of a request in any of the supported wire formats, for token counts. */
function promptText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof body.prompt === "string") parts.push(body.prompt);
  if (typeof body.suffix === "string") parts.push(body.suffix);
  parts.push(textOf(body.system));
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (message !== null && typeof message === "object" && "content" in message)
        parts.push(textOf(message.content));
    }
  }
  return parts.join(" ");
}

function stopSequences(body: Record<string, unknown>): string[] {
  const stop = body.stop ?? body.stop_sequences;
  if (typeof stop === "string") return [stop];
  return Array.isArray(stop) ? stop.filter((s): s is string => typeof s === "string" && s.length > 0) : [];
}

function maxTokens(body: Record<string, unknown>): number | undefined {
  const value = body.max_tokens ?? body.max_completion_tokens;
  return typeof value === "number" && value > 0 ? value : undefined;
}

/** Applies the request's `stop` and `max_tokens` to the scripted reply, like a real server would. */
export function planReply(behaviour: Behaviour, request: ReceivedRequest): ReplyPlan {
  const body = request.body;
  let text =
    typeof behaviour.reply === "function" ? behaviour.reply(request) : (behaviour.reply ?? DEFAULT_REPLY);
  let stopSequence: string | undefined;
  for (const stop of stopSequences(body)) {
    const at = text.indexOf(stop);
    if (at >= 0) {
      text = text.slice(0, at);
      stopSequence = stop;
    }
  }
  let pieces = splitIntoTokens(text);
  let finish: "stop" | "length" = "stop";
  const limit = maxTokens(body);
  if (limit !== undefined && pieces.length > limit) {
    pieces = pieces.slice(0, limit);
    finish = "length";
    stopSequence = undefined;
  }
  return {
    model: typeof body.model === "string" ? body.model : "scripted-model",
    pieces,
    finish: behaviour.finishReason ?? finish,
    stopSequence,
    // Prompt "tokens" are words: easy to predict when writing a test.
    promptTokens: behaviour.usage?.promptTokens ?? promptText(body).split(/\s+/).filter(Boolean).length,
    completionTokens: behaviour.usage?.completionTokens ?? pieces.length,
  };
}
