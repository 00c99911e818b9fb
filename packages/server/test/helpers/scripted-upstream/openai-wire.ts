import { scriptedLogprob } from "./behaviour.js";
import type { ReplyPlan } from "./reply-plan.js";

/** SSE frames of a streamed answer, split so faults can cut the stream between text chunks. */
export interface StreamFrames {
  head: string[];
  content: string[];
  tail: string[];
  /** What the server sends for an in-stream failure (`error-event`). */
  error: string;
}

export const IN_STREAM_ERROR_MESSAGE = "scripted in-stream failure";

export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return `${event === undefined ? "" : `event: ${event}\n`}data: ${payload}\n\n`;
}

const CREATED = 1_700_000_000;

function usageOf(plan: ReplyPlan) {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
  };
}

/**
 * The `count` most likely tokens at a position: the sampled token, then `<token>~1`, `<token>~2`…
 * each one nat less likely (see `scriptedAlternative`).
 */
function alternatives(token: string, logprob: number, count: number) {
  return Array.from({ length: count }, (_, k) =>
    k === 0 ? { token, logprob } : { token: scriptedAlternative(token, k), logprob: logprob - k },
  );
}

/** The text of the k-th scripted alternative to `token` (k ≥ 1), for tests to expect. */
export function scriptedAlternative(token: string, k: number): string {
  return `${token}~${k}`;
}

/** Chat's `top_logprobs` (0–20) when logprobs are asked for. */
function chatAlternativeCount(body: Record<string, unknown>): number {
  return typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
}

function chatLogprobs(pieces: string[], offset: number, count: number) {
  return {
    content: pieces.map((token, i) => ({
      token,
      logprob: scriptedLogprob(offset + i),
      bytes: [...Buffer.from(token)],
      top_logprobs: alternatives(token, scriptedLogprob(offset + i), count).map((a) => ({
        ...a,
        bytes: [...Buffer.from(a.token)],
      })),
    })),
  };
}

/** The legacy API's `logprobs: n` lists n alternatives per position (the sampled token at least). */
function completionLogprobs(pieces: string[], offset: number, count: number) {
  return {
    tokens: pieces,
    token_logprobs: pieces.map((_, i) => scriptedLogprob(offset + i)),
    top_logprobs: pieces.map((token, i) =>
      Object.fromEntries(
        alternatives(token, scriptedLogprob(offset + i), Math.max(1, count)).map((a) => [a.token, a.logprob]),
      ),
    ),
    text_offset: pieces.map((_, i) => pieces.slice(0, i).join("").length),
  };
}

function wantsLogprobs(body: Record<string, unknown>): boolean {
  return body.logprobs === true || (typeof body.logprobs === "number" && body.logprobs >= 0);
}

const completionAlternativeCount = (body: Record<string, unknown>) =>
  typeof body.logprobs === "number" ? body.logprobs : 0;

function wantsUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options;
  return (
    options !== null &&
    typeof options === "object" &&
    "include_usage" in options &&
    options.include_usage === true
  );
}

export function chatCompletion(plan: ReplyPlan, body: Record<string, unknown>): unknown {
  return {
    id: "chatcmpl-scripted",
    object: "chat.completion",
    created: CREATED,
    model: plan.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: plan.pieces.join("") },
        logprobs: wantsLogprobs(body) ? chatLogprobs(plan.pieces, 0, chatAlternativeCount(body)) : null,
        finish_reason: plan.finish,
      },
    ],
    usage: usageOf(plan),
  };
}

export function chatCompletionFrames(plan: ReplyPlan, body: Record<string, unknown>): StreamFrames {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame({
      id: "chatcmpl-scripted",
      object: "chat.completion.chunk",
      created: CREATED,
      model: plan.model,
      choices,
      ...extra,
    });
  const logprobs = wantsLogprobs(body);
  return {
    head: [
      chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
    ],
    content: plan.pieces.map((piece, i) =>
      chunk([
        {
          index: 0,
          delta: { content: piece },
          logprobs: logprobs ? chatLogprobs([piece], i, chatAlternativeCount(body)) : null,
          finish_reason: null,
        },
      ]),
    ),
    tail: [
      chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: plan.finish }]),
      ...(wantsUsage(body) ? [chunk([], { usage: usageOf(plan) })] : []),
      sseFrame("[DONE]"),
    ],
    error: sseFrame(openAIError(500, IN_STREAM_ERROR_MESSAGE)),
  };
}

export function completion(plan: ReplyPlan, body: Record<string, unknown>): unknown {
  return {
    id: "cmpl-scripted",
    object: "text_completion",
    created: CREATED,
    model: plan.model,
    choices: [
      {
        index: 0,
        text: plan.pieces.join(""),
        logprobs: wantsLogprobs(body)
          ? completionLogprobs(plan.pieces, 0, completionAlternativeCount(body))
          : null,
        finish_reason: plan.finish,
      },
    ],
    usage: usageOf(plan),
  };
}

export function completionFrames(plan: ReplyPlan, body: Record<string, unknown>): StreamFrames {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame({
      id: "cmpl-scripted",
      object: "text_completion",
      created: CREATED,
      model: plan.model,
      choices,
      ...extra,
    });
  const logprobs = wantsLogprobs(body);
  return {
    head: [],
    content: plan.pieces.map((piece, i) =>
      chunk([
        {
          index: 0,
          text: piece,
          logprobs: logprobs ? completionLogprobs([piece], i, completionAlternativeCount(body)) : null,
          finish_reason: null,
        },
      ]),
    ),
    tail: [
      chunk([{ index: 0, text: "", logprobs: null, finish_reason: plan.finish }]),
      ...(wantsUsage(body) ? [chunk([], { usage: usageOf(plan) })] : []),
      sseFrame("[DONE]"),
    ],
    error: sseFrame(openAIError(500, IN_STREAM_ERROR_MESSAGE)),
  };
}

export function openAIError(status: number, message: string): unknown {
  const type =
    status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message, type, param: null, code: status === 404 ? "model_not_found" : null } };
}

export function modelList(ids: readonly string[], contextLength: number | undefined): unknown {
  return {
    object: "list",
    data: ids.map((id) => ({
      id,
      object: "model",
      created: CREATED,
      owned_by: "scripted",
      ...(contextLength === undefined ? {} : { max_model_len: contextLength }),
    })),
  };
}

/** One model, with the fields of both the OpenAI and the Anthropic "retrieve model" answers. */
export function modelObject(id: string): unknown {
  return {
    id,
    object: "model",
    created: CREATED,
    owned_by: "scripted",
    type: "model",
    display_name: id,
    created_at: new Date(CREATED * 1000).toISOString(),
  };
}

export function ollamaTags(ids: readonly string[]): unknown {
  return {
    models: ids.map((name) => ({
      name,
      model: name,
      modified_at: new Date(CREATED * 1000).toISOString(),
      size: 0,
      digest: "0".repeat(64),
      details: { format: "gguf", family: "llama" },
    })),
  };
}
