/**
 * Scripted upstream: a real `node:http` server on 127.0.0.1 that plays an LLM server, for tests
 * that must not touch the network or a real model (DESIGN.md "Testing without network").
 *
 * It speaks the OpenAI wire format (`/v1/models`, `/v1/chat/completions`, `/v1/completions`
 * with SSE, `data: [DONE]`, logprobs and usage), the Anthropic Messages format (`/v1/messages`
 * with `message_start` … `message_stop` events) and Ollama's `/api/tags`.
 *
 * Each route has a queue of behaviours; a request takes the next one, or the route's default
 * once the queue is empty. Every request is recorded with its body, headers and how it ended
 * (`aborted` when the client closed the connection early). Open sockets are tracked, so a test
 * can assert that a client leaked none, and `close()` destroys them all.
 *
 * @example
 * const upstream = await startScriptedUpstream({ models: ["coder"] });
 * upstream.script("chat", { status: 500 }, { reply: "fixed code", chunkDelayMs: 5 });
 * upstream.always("messages", { status: 429, retryAfter: 1 });
 * // … point a provider at `${upstream.url}/v1` (OpenAI) or `upstream.url` (Anthropic) …
 * expect(upstream.requestsTo("chat")[1]?.body.temperature).toBe(0);
 * expect(await upstream.waitForNoLeakedSockets()).toBe(true);
 * await upstream.close();
 */
export {
  type Behaviour,
  DEFAULT_REPLY,
  type Fault,
  type Outcome,
  type ReceivedRequest,
  type RouteName,
  scriptedLogprob,
  splitIntoTokens,
} from "./behaviour.js";
export { IN_STREAM_ERROR_MESSAGE, scriptedAlternative } from "./openai-wire.js";
export { type ScriptedUpstream, type ScriptedUpstreamOptions, startScriptedUpstream } from "./server.js";
