import type { Server as HttpServer } from "node:http";
/**
 * The baseline: a bare Hono app on @hono/node-server, no middleware, answering the same JSON
 * body as the full stack's `GET /v1/ai/me` (passed in `BENCH_BODY`, serialized per request
 * like the real handler does).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { announceReady, stopOnRunnerExit } from "./lifecycle.js";

const body: unknown = JSON.parse(process.env.BENCH_BODY ?? '{"ok":true}');

const app = new Hono();
app.get("/v1/ai/me", (c) => c.json(body as Record<string, unknown>));

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  announceReady({ url: `http://127.0.0.1:${info.port}` });
});

stopOnRunnerExit(
  () =>
    new Promise<void>((resolvePromise) => {
      server.close(() => resolvePromise());
      (server as HttpServer).closeAllConnections();
    }),
);
