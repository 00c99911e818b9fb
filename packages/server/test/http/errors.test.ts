import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let server: TestServer;
let adminKey: string;

beforeAll(async () => {
  server = await startTestServer({ auth: { required: true }, server: { body_limit_bytes: 4096 } });
  // Routes that fail on purpose, added before the first request builds the router.
  server.app.get("/v1/ai/test/crash", () => {
    throw new Error("secret internal detail at /srv/app.js:42");
  });
  server.app.get("/v1/ai/test/typed", () => {
    throw new ApiError("OVERLOADED", "queue full", { headers: { "Retry-After": "3" } });
  });
  const { createApiKey } = await import("../../src/auth/api-key-service.js");
  adminKey = (await createApiKey(server.services.store.apiKeys, { name: "admin", scopes: ["admin"] })).key;
});
afterAll(() => server.stop());

const auth = () => ({ authorization: `Bearer ${adminKey}` });

describe("error envelope for every failure", () => {
  it("unknown route → 404 NOT_FOUND", async () => {
    const res = await request(server.url, "/nope", { headers: auth() });
    expectErrorEnvelope(res, 404, "NOT_FOUND");
  });

  it("unknown route under /v1/ai (authenticated) → 404 NOT_FOUND", async () => {
    expectErrorEnvelope(
      await request(server.url, "/v1/ai/nothing-here", { headers: auth() }),
      404,
      "NOT_FOUND",
    );
  });

  it("known path, wrong method → 405 with Allow", async () => {
    const res = await request(server.url, "/v1/ai/me", { method: "PUT", headers: auth() });
    const error = expectErrorEnvelope(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(error.details.allowed_methods).toEqual(["GET", "HEAD"]);
    const withParam = await request(server.url, "/v1/ai/keys/abc", { method: "GET", headers: auth() });
    expect(withParam.headers.get("allow")).toBe("DELETE");
  });

  it("malformed JSON → 400 INVALID_REQUEST, not 500", async () => {
    const res = await request(server.url, "/v1/ai/keys", {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      rawBody: '{"name": "x", "scopes": [',
    });
    const error = expectErrorEnvelope(res, 400, "INVALID_REQUEST");
    expect(error.message).toMatch(/malformed json/i);
  });

  it("wrong types → 400 with details.issues paths", async () => {
    const res = await request(server.url, "/v1/ai/keys", {
      method: "POST",
      headers: auth(),
      body: { name: 42, scopes: ["inference", "root"], extra: true },
    });
    const error = expectErrorEnvelope(res, 400, "INVALID_REQUEST");
    const issues = error.details.issues as Array<{ path: string; message: string }>;
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(["extra", "name", "scopes[1]"]);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it("non-JSON content type → 415", async () => {
    const res = await request(server.url, "/v1/ai/keys", {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain" },
      rawBody: "name=x",
    });
    expectErrorEnvelope(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("oversized body → 413 PAYLOAD_TOO_LARGE, with or without Content-Length", async () => {
    const big = JSON.stringify({ name: "x".repeat(10_000), scopes: ["inference"] });
    const res = await request(server.url, "/v1/ai/keys", {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      rawBody: big,
    });
    expectErrorEnvelope(res, 413, "PAYLOAD_TOO_LARGE");

    // Chunked upload: no Content-Length, the limit must still hold while streaming.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
        controller.close();
      },
    });
    const chunked = await fetch(`${server.url}/v1/ai/keys`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("unexpected exception → 500 INTERNAL_ERROR without internals", async () => {
    const res = await request(server.url, "/v1/ai/test/crash", { headers: auth() });
    expectErrorEnvelope(res, 500, "INTERNAL_ERROR");
    expect(res.text).not.toContain("secret internal detail");
    expect(res.text).not.toContain("/srv/app.js");
  });

  it("typed errors keep their status and headers", async () => {
    const res = await request(server.url, "/v1/ai/test/typed", { headers: auth() });
    expectErrorEnvelope(res, 503, "OVERLOADED");
    expect(res.headers.get("retry-after")).toBe("3");
  });
});

describe("request ids", () => {
  it("echoes a well-formed X-Request-Id and generates one otherwise", async () => {
    const echoed = await request(server.url, "/healthz", { headers: { "x-request-id": "client-abc-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-abc-123");
    const generated = await request(server.url, "/healthz");
    expect(generated.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    const hostile = await request(server.url, "/healthz", { headers: { "x-request-id": "a b<script>" } });
    expect(hostile.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("puts the request id in error bodies", async () => {
    const res = await request(server.url, "/nope", { headers: { "x-request-id": "trace-me" } });
    expect(expectErrorEnvelope(res, 404, "NOT_FOUND").request_id).toBe("trace-me");
  });
});
