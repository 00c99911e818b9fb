import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createApiKey } from "../../server/src/auth/api-key-service.js";
import { FakeProvider } from "../../server/test/helpers/fake-provider.js";
import { startTestServer, type TestServer } from "../../server/test/helpers/test-server.js";
import {
  AiserviceClient,
  AiserviceError,
  type LoadModelResponse,
  type Model,
  type ModelPage,
  waitForModelLoaded,
} from "../src/index.js";

const MB = 1024 * 1024;
let server: TestServer;
let admin: AiserviceClient;

beforeAll(async () => {
  server = await startTestServer(
    {
      auth: { required: true },
      models: [
        { id: "tiny", provider: "llama-cpp", source: "/x.gguf" },
        { id: "broken", provider: "llama-cpp", source: "/broken.gguf" },
        { id: "small", provider: "llama-cpp", source: "/small.gguf", capabilities: ["code_generation"] },
      ],
    },
    {
      createProvider: (entry) =>
        new FakeProvider(entry.id, {
          loadMs: 300,
          sizeBytes: 50 * MB,
          ...(entry.id === "broken" ? { fail: new Error("not a GGUF file") } : {}),
        }),
    },
  );
  const created = await createApiKey(server.services.store.apiKeys, { name: "sdk tests", scopes: ["admin"] });
  admin = new AiserviceClient({ baseUrl: server.url, apiKey: created.key });
});
afterAll(() => server.stop());

/** An error thrown by `promise`, asserted to be an AiserviceError. */
async function failure(promise: Promise<unknown>): Promise<AiserviceError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(AiserviceError);
  return error as AiserviceError;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("AiserviceClient against the real server", () => {
  it("me() names the key's principal and scopes", async () => {
    const me = await admin.me();
    expect(me).toMatchObject({ kind: "api_key", name: "sdk tests", scopes: ["admin"] });
  });

  it("keys: create → list → revoke", async () => {
    const created = await admin.keys.create({ name: "ci bot", scopes: ["inference"] });
    expect(created.key).toMatch(/^ais-/);
    expect(created).toMatchObject({ name: "ci bot", scopes: ["inference"], status: "active" });

    const listed = await admin.keys.list();
    expect(listed.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    const bot = new AiserviceClient({ baseUrl: server.url, apiKey: created.key });
    expect((await bot.me()).scopes).toEqual(["inference"]);

    const revoked = await admin.keys.revoke(created.id);
    expect(revoked).toMatchObject({ id: created.id, status: "revoked" });
    expect((await admin.keys.list()).find((k) => k.id === created.id)?.status).toBe("revoked");
    const missing = await failure(admin.keys.revoke("nope"));
    expect(missing).toMatchObject({ code: "NOT_FOUND", status: 404 });
  });

  it("models: list (one page, and all pages), typed", async () => {
    const page = await admin.models.list({ limit: 2 });
    expectTypeOf(page).toEqualTypeOf<ModelPage>();
    expect(page.models.map((m) => m.id)).toEqual(["broken", "small"]);
    expect(page.pagination).toEqual({ total_count: 3, has_more: true, next_cursor: "small" });

    const all = await admin.models.listAll({ limit: 1 });
    expect(all.map((m) => m.id)).toEqual(["broken", "small", "tiny"]);
    const filtered = await admin.models.list({ capability: "code_generation", status: "available" });
    expect(filtered.models.map((m) => m.id)).toContain("small");
  });

  it("models: load → progress while loading → loaded → load again → unload", async () => {
    const load = await admin.models.load("tiny", { priority: "high", timeout_seconds: 30 });
    expectTypeOf(load).toEqualTypeOf<LoadModelResponse>();
    expect(load).toMatchObject({ model_id: "tiny", status: "loading", queue_position: 0 });

    const during = await admin.models.get("tiny");
    expectTypeOf(during).toEqualTypeOf<Model>();
    expect(during.status).toBe("loading");
    expect(during.progress).toEqual({ phase: "load", percent: 50 });

    const seen: Array<string> = [];
    const loaded = await waitForModelLoaded(admin, "tiny", {
      intervalMs: 50,
      timeoutMs: 10_000,
      onProgress: (m) => seen.push(`${m.status}:${m.progress?.percent ?? "-"}`),
    });
    expect(loaded).toMatchObject({ id: "tiny", status: "loaded", memory_usage_mb: 50, progress: null });
    expect(seen).toContain("loading:50");
    expect(seen.at(-1)).toBe("loaded:-");

    expect(await admin.models.load("tiny")).toMatchObject({ status: "loaded", queue_position: 0 });

    const unloaded = await admin.models.unload("tiny");
    expect(unloaded).toMatchObject({ model_id: "tiny", status: "unloaded", memory_freed_mb: 50 });
    expect((await admin.models.get("tiny")).status).toBe("available");
  });

  it("waitForModelLoaded: a failing load and a model nobody loads are errors, not hangs", async () => {
    await admin.models.load("broken");
    const failed = await failure(waitForModelLoaded(admin, "broken", { intervalMs: 50, timeoutMs: 10_000 }));
    expect(failed.code).toBe("MODEL_LOAD_FAILED");
    expect(failed.message).toMatch(/loading model 'broken' failed: not a GGUF file/);

    const idle = await failure(waitForModelLoaded(admin, "small", { intervalMs: 50 }));
    expect(idle.code).toBe("MODEL_NOT_LOADING");
  });

  it("404 MODEL_NOT_FOUND carries details.suggestion and the request id", async () => {
    const error = await failure(admin.models.get("tinyy"));
    expect(error).toMatchObject({ code: "MODEL_NOT_FOUND", status: 404 });
    expect(error.message).toBe("Requested model 'tinyy' is not available");
    expect(error.details.suggestion).toBe("Use 'tiny' instead");
    expect(error.suggestion).toBe("Use 'tiny' instead");
    expect(error.details.available_models).toEqual(["tiny", "broken", "small"]);
    expect(error.requestId).toMatch(/^req_/);
  });

  it("400 INVALID_REQUEST keeps details.issues", async () => {
    const error = await failure(
      admin.models.load("tiny", { priority: "urgent" as never, timeout_seconds: -5 }),
    );
    expect(error).toMatchObject({ code: "INVALID_REQUEST", status: 400 });
    expect((error.details.issues as Array<{ path: string }>).map((i) => i.path).sort()).toEqual([
      "priority",
      "timeout_seconds",
    ]);
  });

  it("401 without (or with wrong) credentials when auth is required", async () => {
    const anonymous = new AiserviceClient({ baseUrl: server.url });
    const error = await failure(anonymous.models.list());
    expect(error).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
    expect(error.message).toMatch(/missing credentials/);
    expect(error.requestId).toMatch(/^req_/);

    const wrongKey = new AiserviceClient({ baseUrl: server.url, apiKey: "ais-0000000000.not-a-real-secret" });
    expect(await failure(wrongKey.me())).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
  });

  it("health probes need no credentials", async () => {
    const anonymous = new AiserviceClient({ baseUrl: `${server.url}/` });
    expect(await anonymous.health.live()).toEqual({ status: "ok" });
    expect(await anonymous.health.ready()).toMatchObject({ status: "ready", checks: { store: "ok" } });
  });
});

describe("AiserviceClient failures without a server answer", () => {
  it("a closed port is CONNECTION_ERROR naming the base URL", async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const client = new AiserviceClient({ baseUrl, timeoutMs: 5_000 });
    const error = await failure(client.models.list());
    expect(error.code).toBe("CONNECTION_ERROR");
    expect(error.status).toBeUndefined();
    expect(error.message).toContain(`cannot reach the aiservice server at ${baseUrl}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it("timeoutMs bounds every request (TIMEOUT)", async () => {
    const never = (request: Request) =>
      new Promise<Response>((_, reject) =>
        request.signal.addEventListener("abort", () => reject(request.signal.reason)),
      );
    const client = new AiserviceClient({ baseUrl: "http://127.0.0.1:9", fetch: never, timeoutMs: 50 });
    const error = await failure(client.me());
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toMatch(/within 50 ms/);
  });

  it("Retry-After and the envelope become retryAfterSeconds; a foreign error body is UNEXPECTED_RESPONSE", async () => {
    const envelope = {
      error: {
        code: "RATE_LIMIT_EXCEEDED",
        message: "rate limit exceeded",
        details: { limit: 50, window_seconds: 60, retry_after_seconds: 7 },
        timestamp: "2025-01-01T00:00:00Z",
        request_id: "req_abc",
      },
    };
    const limited = new AiserviceClient({
      fetch: async () =>
        new Response(JSON.stringify(envelope), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "7" },
        }),
    });
    expect(await failure(limited.models.load("tiny"))).toMatchObject({
      code: "RATE_LIMIT_EXCEEDED",
      status: 429,
      requestId: "req_abc",
      retryAfterSeconds: 7,
      details: { limit: 50 },
    });

    const proxy = new AiserviceClient({
      fetch: async () =>
        new Response("<html>bad gateway</html>", { status: 502, headers: { "x-request-id": "p1" } }),
    });
    const error = await failure(proxy.me());
    expect(error).toMatchObject({ code: "UNEXPECTED_RESPONSE", status: 502, requestId: "p1" });
    expect(error.details.body).toBe("<html>bad gateway</html>");
  });

  it("sends the API key as a bearer token to the default base URL", async () => {
    let seen: Request | undefined;
    const client = new AiserviceClient({
      apiKey: "ais-abc.secret",
      fetch: async (request) => {
        seen = request;
        return Response.json({ id: "x", kind: "api_key", name: "n", scopes: [] });
      },
    });
    await client.me();
    expect(seen?.url).toBe("http://127.0.0.1:8000/v1/ai/me");
    expect(seen?.headers.get("authorization")).toBe("Bearer ais-abc.secret");
  });
});
