import type { IncomingHttpHeaders } from "node:http";

/** The routes the scripted upstream answers; each has its own queue of behaviours. */
export type RouteName =
  /** `GET /v1/models` — OpenAI model list. */
  | "models"
  /** `GET /v1/models/{id}` — one model (fields of both the OpenAI and the Anthropic shape). */
  | "model"
  /** `POST /v1/chat/completions` — OpenAI chat. */
  | "chat"
  /** `POST /v1/completions` — OpenAI raw completions and FIM (`suffix`). */
  | "completions"
  /** `POST /v1/messages` — Anthropic messages. */
  | "messages"
  /** `GET /api/tags` — Ollama's native model list. */
  | "ollama-tags";

/**
 * Ways the upstream misbehaves.
 * - `reset-before-headers`: the socket is destroyed before any response byte.
 * - `reset-mid-stream`: headers and `afterChunks` text chunks, then the socket is destroyed
 *   (for a non-streaming request: half of the JSON body, then destroyed).
 * - `truncate`: like `reset-mid-stream` but ends cleanly — no final event, no `data: [DONE]`
 *   (non-streaming: half of the JSON body with a clean end).
 * - `garbage`: a 200 whose body (or SSE `data:`) is not JSON.
 * - `stall`: headers and `afterChunks` text chunks, then silence until the client gives up.
 * - `error-event`: headers and `afterChunks` text chunks, then an in-stream error (OpenAI
 *   `data: {"error": …}`, Anthropic `event: error` "overloaded_error") and the end; for a
 *   non-streaming request, a 200 whose JSON body is such an error.
 */
export type Fault =
  "reset-before-headers" | "reset-mid-stream" | "truncate" | "garbage" | "stall" | "error-event";

/** One scripted answer. Every field is optional; `{}` answers with the default reply. */
export interface Behaviour {
  /** The model's text; a function computes it from the request. Default `"Hello from the scripted upstream."`. */
  reply?: string | ((request: ReceivedRequest) => string);
  /** Delay before the status line is sent. */
  latencyMs?: number;
  /** Delay between streamed text chunks. */
  chunkDelayMs?: number;
  /** Answer with this non-2xx status and an error body in the route's wire format. */
  status?: number;
  /** Message inside the error body of a `status` answer. */
  errorMessage?: string;
  /** `Retry-After` header value (seconds or an HTTP date). */
  retryAfter?: number | string;
  /** Extra response headers. */
  headers?: Record<string, string>;
  fault?: Fault;
  /** Text chunks sent before a mid-stream fault (default 1; 0 for `stall`). */
  afterChunks?: number;
  /** Forces the finish reason; otherwise `stop`, or `length` when `max_tokens` cut the reply. */
  finishReason?: "stop" | "length";
  /** Overrides the reported usage (default: pieces of prompt and reply). */
  usage?: { promptTokens: number; completionTokens: number };
}

/** How an exchange ended, from the server's side. */
export type Outcome = "pending" | "completed" | "client-closed" | "server-reset";

/** A request the upstream received; `outcome` and `aborted` update live. */
export interface ReceivedRequest {
  readonly route: RouteName | "unknown";
  readonly method: string;
  /** Path with query string. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The JSON body as an object; `{}` when the body was empty or not a JSON object. */
  readonly body: Record<string, unknown>;
  /** Whether the request asked for SSE (`"stream": true`). */
  readonly stream: boolean;
  readonly receivedAt: number;
  readonly outcome: Outcome;
  /** True once the client closed the connection before the response was complete. */
  readonly aborted: boolean;
  /** Resolves with the final outcome once the exchange is over. */
  readonly ended: Promise<Outcome>;
}

export const DEFAULT_REPLY = "Hello from the scripted upstream.";

/**
 * Splits text into "tokens": each piece is a word with its leading whitespace, so joining the
 * pieces gives the text back exactly and counts are predictable in tests.
 */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/** The natural-log probability the upstream reports for the token at `index` (deterministic). */
export function scriptedLogprob(index: number): number {
  return -0.05 * ((index % 5) + 1);
}
