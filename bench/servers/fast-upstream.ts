/**
 * A minimal, fast OpenAI-compatible upstream on plain node:http, for `gateway-overhead`:
 * `GET /v1/models` lists the model `fast`; `POST /v1/chat/completions` answers a small fixed
 * chat completion, or with `"stream": true` a few server-sent-event chunks and `data: [DONE]`,
 * all at once. No validation beyond parsing the JSON body: it should cost as little as possible,
 * so that what the benchmark sees is the gateway's own overhead.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { announceReady, stopOnRunnerExit } from "./lifecycle.js";

const MODEL = "fast";
/** The completion text, split into the streamed deltas. */
const DELTAS = ["Hello", ", ", "world", "!"];
const CREATED = 1_700_000_000;
const ID = "chatcmpl-bench";

const modelsBody = JSON.stringify({
  object: "list",
  data: [{ id: MODEL, object: "model", created: CREATED, owned_by: "bench" }],
});

const completionBody = JSON.stringify({
  id: ID,
  object: "chat.completion",
  created: CREATED,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: DELTAS.join("") },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 8, completion_tokens: DELTAS.length, total_tokens: 8 + DELTAS.length },
});

const chunk = (delta: Record<string, string>, finishReason: string | null) =>
  `data: ${JSON.stringify({
    id: ID,
    object: "chat.completion.chunk",
    created: CREATED,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  })}\n\n`;

const streamChunks = [
  chunk({ role: "assistant", content: "" }, null),
  ...DELTAS.map((content) => chunk({ content }, null)),
  chunk({}, "stop"),
  "data: [DONE]\n\n",
];

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolvePromise(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "GET" && req.url === "/v1/models") return sendJson(res, 200, modelsBody);
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
    return sendJson(res, 404, JSON.stringify({ error: { message: "not found", type: "not_found" } }));
  }
  let body: { stream?: unknown };
  try {
    body = JSON.parse(await readBody(req)) as { stream?: unknown };
  } catch {
    return sendJson(
      res,
      400,
      JSON.stringify({ error: { message: "invalid JSON", type: "invalid_request" } }),
    );
  }
  if (body.stream !== true) return sendJson(res, 200, completionBody);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const part of streamChunks) res.write(part);
  res.end();
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error("fast-upstream:", err);
    if (!res.headersSent) sendJson(res, 500, JSON.stringify({ error: { message: "internal" } }));
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, "127.0.0.1", () => {
  announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

stopOnRunnerExit(
  () =>
    new Promise<void>((resolvePromise) => {
      server.close(() => resolvePromise());
      server.closeAllConnections();
    }),
);
