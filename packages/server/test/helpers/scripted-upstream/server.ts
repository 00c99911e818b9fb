import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Behaviour, ReceivedRequest, RouteName } from "./behaviour.js";
import { Exchange, RecordedRequest } from "./exchange.js";
import { respond } from "./respond.js";

export interface ScriptedUpstreamOptions {
  /** Model ids served by `/v1/models`, `/v1/models/{id}` and `/api/tags` (default `["scripted-model"]`). */
  models?: string[];
  /** Reported as `max_model_len` for every model in `/v1/models` (vLLM does this). */
  contextLength?: number;
  /**
   * Keep connections alive between requests. Default false: every response says
   * `Connection: close`, so a socket still open after a client finished is a leaked exchange.
   */
  keepAlive?: boolean;
}

/** A real HTTP server on 127.0.0.1 speaking the OpenAI, Anthropic and Ollama wire formats. */
export interface ScriptedUpstream {
  /** `http://127.0.0.1:<port>` — the server root (OpenAI clients append `/v1`). */
  readonly url: string;
  readonly port: number;
  /** Queues behaviours for a route; each request takes the next, then the route's default. */
  script(route: RouteName, ...behaviours: Behaviour[]): this;
  /** Sets what a route does once its queue is empty (initially `{}`: answer normally). */
  always(route: RouteName, behaviour: Behaviour): this;
  /** Forgets queues, defaults and recorded requests (keeps the server and its sockets). */
  reset(): void;
  /** Every request received, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  requestsTo(route: RouteName): ReceivedRequest[];
  /** Resolves once `count` requests to `route` have arrived (rejects after `timeoutMs`). */
  waitForRequests(route: RouteName, count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Sockets currently open on the server side. */
  readonly openSockets: number;
  /** Exchanges whose response is neither complete nor closed. */
  readonly inFlight: number;
  /** Destroys open sockets that carry no exchange (a client's idle keep-alive/spare connections). */
  closeIdleConnections(): void;
  /**
   * The leak check for the end of a test: waits until no exchange is in flight, closes idle
   * connections, then waits until no socket is open. False if that does not happen in time.
   *
   * Idle connections are closed rather than counted because they belong to the client's
   * process-wide connection pool (undici even opens a spare one after an aborted request);
   * a socket still carrying an exchange is what a leaking provider leaves behind.
   */
  waitForNoLeakedSockets(timeoutMs?: number): Promise<boolean>;
  /** Destroys every open socket and stops listening. */
  close(): Promise<void>;
}

const ROUTES: ReadonlyArray<{ method: string; pattern: RegExp; route: RouteName }> = [
  { method: "GET", pattern: /^\/v1\/models\/?$/, route: "models" },
  { method: "GET", pattern: /^\/v1\/models\/[^/]+$/, route: "model" },
  { method: "POST", pattern: /^\/v1\/chat\/completions$/, route: "chat" },
  { method: "POST", pattern: /^\/v1\/completions$/, route: "completions" },
  { method: "POST", pattern: /^\/v1\/messages$/, route: "messages" },
  { method: "GET", pattern: /^\/api\/tags$/, route: "ollama-tags" },
];

function routeOf(method: string, path: string): RouteName | "unknown" {
  const pathname = path.split("?")[0] ?? path;
  return ROUTES.find((r) => r.method === method && r.pattern.test(pathname))?.route ?? "unknown";
}

/** Test-side waiting: checks `done` every few ms until it holds or `timeoutMs` passes. */
async function pollUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a scripted upstream on an ephemeral loopback port. */
export async function startScriptedUpstream(
  options: ScriptedUpstreamOptions = {},
): Promise<ScriptedUpstream> {
  const catalog = {
    models: options.models ?? ["scripted-model"],
    contextLength: options.contextLength,
    keepAlive: options.keepAlive ?? false,
  };
  const queues = new Map<RouteName, Behaviour[]>();
  const defaults = new Map<RouteName, Behaviour>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  /** Exchanges in flight per socket: a socket with none is idle. */
  const busy = new Map<Socket, number>();
  let inFlight = 0;
  let closing = false;

  const nextBehaviour = (route: RouteName | "unknown"): Behaviour => {
    if (route === "unknown") return {};
    return queues.get(route)?.shift() ?? defaults.get(route) ?? {};
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const route = routeOf(method, path);
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    inFlight++;
    res.on("close", () => {
      busy.set(socket, (busy.get(socket) ?? 1) - 1);
      inFlight--;
    });
    const record = new RecordedRequest(route, method, path, req.headers, await readBody(req));
    requests.push(record);
    const exchange = new Exchange(req, res, record, () => closing);
    await respond(exchange, nextBehaviour(route), catalog);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A write after the client vanished is expected in fault scripts; never crash the test run.
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  const upstream: ScriptedUpstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    script(route, ...behaviours) {
      queues.set(route, [...(queues.get(route) ?? []), ...behaviours]);
      return this;
    },
    always(route, behaviour) {
      defaults.set(route, behaviour);
      return this;
    },
    reset() {
      queues.clear();
      defaults.clear();
      requests.length = 0;
    },
    get requests() {
      return requests;
    },
    requestsTo(route) {
      return requests.filter((r) => r.route === route);
    },
    async waitForRequests(route, count, timeoutMs = 2_000) {
      if (!(await pollUntil(() => this.requestsTo(route).length >= count, timeoutMs))) {
        throw new Error(`expected ${count} requests to ${route}, got ${this.requestsTo(route).length}`);
      }
      return this.requestsTo(route);
    },
    get openSockets() {
      return sockets.size;
    },
    get inFlight() {
      return inFlight;
    },
    closeIdleConnections() {
      for (const socket of sockets) if ((busy.get(socket) ?? 0) === 0) socket.destroy();
    },
    async waitForNoLeakedSockets(timeoutMs = 2_000) {
      const deadline = Date.now() + timeoutMs;
      if (!(await pollUntil(() => inFlight === 0, timeoutMs))) return false;
      this.closeIdleConnections();
      return pollUntil(() => sockets.size === 0, Math.max(0, deadline - Date.now()));
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return upstream;
}
