import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { request, startTestServer } from "../helpers/test-server.js";

describe("graceful shutdown", () => {
  it("drains in-flight requests, then refuses new connections", async () => {
    const server = await startTestServer();
    server.app.get("/v1/ai/test/slow", async (c) => {
      await sleep(400);
      return c.json({ done: true });
    });
    const inFlight = request(server.url, "/v1/ai/test/slow");
    await sleep(100);
    const closed = server.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ done: true });
    await closed;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await server.stop();
  });

  it("bounds the drain: a request outliving shutdown_timeout_ms is cut", async () => {
    const server = await startTestServer({ server: { shutdown_timeout_ms: 200 } });
    server.app.get("/v1/ai/test/stuck", async (c) => {
      await sleep(10_000);
      return c.json({ done: true });
    });
    const inFlight = fetch(`${server.url}/v1/ai/test/stuck`).then(
      (r) => r.status,
      () => "cut",
    );
    await sleep(100);
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await inFlight).toBe("cut");
    await server.stop();
  });

  it("/readyz reports 503 while draining so load balancers stop routing", async () => {
    const server = await startTestServer();
    server.app.get("/v1/ai/test/slow", async (c) => {
      await sleep(500);
      return c.json({ done: true });
    });
    // Keep-alive connection opened before shutdown; the readiness probe rides on it.
    const inFlight = request(server.url, "/v1/ai/test/slow");
    await sleep(50);
    const closed = server.close();
    expect(server.services.isShuttingDown()).toBe(true);
    const ready = await server.app.request("/readyz");
    expect(ready.status).toBe(503);
    await inFlight;
    await closed;
    await server.stop();
  });
});
