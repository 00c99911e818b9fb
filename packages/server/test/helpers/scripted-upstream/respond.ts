import { anthropicError, message, messageFrames } from "./anthropic-wire.js";
import type { Behaviour, RouteName } from "./behaviour.js";
import type { Exchange } from "./exchange.js";
import {
  chatCompletion,
  chatCompletionFrames,
  completion,
  completionFrames,
  modelList,
  modelObject,
  ollamaTags,
  openAIError,
  type StreamFrames,
  sseFrame,
} from "./openai-wire.js";
import { planReply } from "./reply-plan.js";

export interface CatalogOptions {
  models: readonly string[];
  contextLength: number | undefined;
  keepAlive: boolean;
}

/** Answers one exchange according to its behaviour, in the route's wire format. */
export async function respond(
  exchange: Exchange,
  behaviour: Behaviour,
  catalog: CatalogOptions,
): Promise<void> {
  const { record } = exchange;
  if (!(await exchange.sleep(behaviour.latencyMs ?? 0))) return;
  if (behaviour.fault === "reset-before-headers") return exchange.reset();

  const headers: Record<string, string> = { ...(catalog.keepAlive ? {} : { connection: "close" }) };
  if (behaviour.retryAfter !== undefined) headers["retry-after"] = String(behaviour.retryAfter);
  Object.assign(headers, behaviour.headers);

  if (behaviour.status !== undefined && behaviour.status >= 400) {
    const text = behaviour.errorMessage ?? `scripted ${behaviour.status}`;
    const body =
      record.route === "messages"
        ? anthropicError(behaviour.status, text)
        : openAIError(behaviour.status, text);
    return sendJson(exchange, behaviour.status, body, headers);
  }

  switch (record.route) {
    case "models":
      return sendJson(exchange, 200, modelList(catalog.models, catalog.contextLength), headers, behaviour);
    case "ollama-tags":
      return sendJson(exchange, 200, ollamaTags(catalog.models), headers, behaviour);
    case "model": {
      const id = decodeURIComponent(record.path.replace(/^\/v1\/models\//, "").split("?")[0] ?? "");
      if (catalog.models.includes(id)) return sendJson(exchange, 200, modelObject(id), headers, behaviour);
      return sendJson(exchange, 404, openAIError(404, `model '${id}' not found`), headers);
    }
    case "chat":
    case "completions":
    case "messages":
      return generation(exchange, record.route, behaviour, headers);
    default:
      return sendJson(
        exchange,
        404,
        openAIError(404, `no route for ${record.method} ${record.path}`),
        headers,
      );
  }
}

async function generation(
  exchange: Exchange,
  route: Extract<RouteName, "chat" | "completions" | "messages">,
  behaviour: Behaviour,
  headers: Record<string, string>,
): Promise<void> {
  const { record } = exchange;
  const plan = planReply(behaviour, record);
  if (!record.stream) {
    const body =
      route === "chat"
        ? chatCompletion(plan, record.body)
        : route === "completions"
          ? completion(plan, record.body)
          : message(plan);
    return sendJson(exchange, 200, body, headers, behaviour);
  }
  const frames: StreamFrames =
    route === "chat"
      ? chatCompletionFrames(plan, record.body)
      : route === "completions"
        ? completionFrames(plan, record.body)
        : messageFrames(plan);
  return sendStream(exchange, frames, headers, behaviour);
}

async function sendStream(
  exchange: Exchange,
  frames: StreamFrames,
  headers: Record<string, string>,
  behaviour: Behaviour,
): Promise<void> {
  const { res } = exchange;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  // Headers go out now, as real servers do, so "headers then silence" is observable.
  res.flushHeaders();
  for (const frame of frames.head) exchange.write(frame);
  const fault = behaviour.fault;
  if (fault === "garbage") {
    exchange.write(sseFrame('{"choices": [ this is not json'));
    res.end();
    return;
  }
  const cut =
    fault === "stall"
      ? (behaviour.afterChunks ?? 0)
      : fault !== undefined
        ? (behaviour.afterChunks ?? 1)
        : Infinity;
  for (const [i, frame] of frames.content.entries()) {
    if (i >= cut) break;
    if (!(await exchange.sleep(behaviour.chunkDelayMs ?? 0))) return;
    exchange.write(frame);
  }
  if (fault === "reset-mid-stream") {
    // Give the written chunks a moment to leave before the reset, so the client sees them first.
    if (await exchange.sleep(20)) exchange.reset();
    return;
  }
  if (fault === "truncate") {
    res.end();
    return;
  }
  if (fault === "error-event") {
    exchange.write(frames.error);
    res.end();
    return;
  }
  if (fault === "stall") return exchange.untilClosed();
  for (const frame of frames.tail) exchange.write(frame);
  res.end();
}

async function sendJson(
  exchange: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string>,
  behaviour: Behaviour = {},
): Promise<void> {
  const { res } = exchange;
  const text = JSON.stringify(body);
  const fault = behaviour.fault;
  if (fault === undefined || status >= 400) {
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.flushHeaders();
  switch (fault) {
    case "garbage":
      res.end("<html><body>502 Bad Gateway</body></html> {not json");
      return;
    case "error-event":
      res.end(JSON.stringify(openAIError(500, "scripted error inside a 200")));
      return;
    case "stall":
      return exchange.untilClosed();
    case "truncate":
      res.end(text.slice(0, Math.floor(text.length / 2)));
      return;
    case "reset-mid-stream":
      exchange.write(text.slice(0, Math.floor(text.length / 2)));
      if (await exchange.sleep(20)) exchange.reset();
      return;
  }
}
