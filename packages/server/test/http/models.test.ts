import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { FakeProvider } from "../helpers/fake-provider.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

const MB = 1024 * 1024;
let server: TestServer;
let manager: Record<string, string>;
let reader: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer(
    {
      auth: { required: true },
      models: [
        {
          id: "codellama-7b",
          name: "CodeLlama 7B",
          provider: "llama-cpp",
          source: "/m/a.gguf",
          capabilities: ["code_completion", "refactoring"],
        },
        { id: "starcoder-3b", provider: "llama-cpp", source: "/m/b.gguf" },
        { id: "slow-model", provider: "llama-cpp", source: "/m/c.gguf" },
      ],
      engine: { memory_budget_mb: 1024 },
      rate_limits: { models: 20 },
    },
    {
      createProvider: (entry) =>
        new FakeProvider(
          entry.id,
          entry.id === "slow-model"
            ? { loadMs: 3_000, sizeBytes: 10 * MB }
            : { loadMs: 200, sizeBytes: 64 * MB },
        ),
    },
  );
  const keys = server.services.store.apiKeys;
  manager = {
    authorization: `Bearer ${(await createApiKey(keys, { name: "ops", scopes: ["models:manage"] })).key}`,
  };
  reader = {
    authorization: `Bearer ${(await createApiKey(keys, { name: "ide", scopes: ["inference"] })).key}`,
  };
});
afterAll(() => server.stop());

interface ModelJson {
  id: string;
  status: string;
  memory_usage_mb: number;
  progress: { phase: string; percent: number | null } | null;
  last_used: string | null;
  performance_metrics: { avg_inference_time_ms: number | null; success_rate: number | null };
}

describe("/v1/ai/models", () => {
  it("lists every registered model with the seed's fields", async () => {
    const res = await request(server.url, "/v1/ai/models", { headers: reader });
    expect(res.status).toBe(200);
    const body = res.body as { models: Array<Record<string, unknown>>; pagination: Record<string, unknown> };
    expect(body.models.map((m) => m.id)).toEqual(["codellama-7b", "slow-model", "starcoder-3b"]);
    expect(body.models[0]).toEqual({
      id: "codellama-7b",
      name: "CodeLlama 7B",
      type: "completion",
      status: "available",
      capabilities: ["code_completion", "refactoring"],
      memory_usage_mb: 0,
      last_used: null,
      performance_metrics: { avg_inference_time_ms: null, success_rate: null },
      provider: "llama-cpp",
      context_length: null,
      error: null,
      progress: null,
    });
    expect(body.pagination).toEqual({ total_count: 3, has_more: false, next_cursor: null });
  });

  it("paginates with limit and cursor, and filters", async () => {
    const first = (await request(server.url, "/v1/ai/models?limit=2", { headers: reader })).body as {
      models: ModelJson[];
      pagination: { has_more: boolean; next_cursor: string };
    };
    expect(first.models.map((m) => m.id)).toEqual(["codellama-7b", "slow-model"]);
    expect(first.pagination).toMatchObject({ has_more: true, next_cursor: "slow-model" });
    const second = (
      await request(server.url, `/v1/ai/models?limit=2&cursor=${first.pagination.next_cursor}`, {
        headers: reader,
      })
    ).body as { models: ModelJson[]; pagination: { has_more: boolean } };
    expect(second.models.map((m) => m.id)).toEqual(["starcoder-3b"]);
    expect(second.pagination.has_more).toBe(false);
    const filtered = (
      await request(server.url, "/v1/ai/models?capability=refactoring&status=available", { headers: reader })
    ).body as { models: ModelJson[] };
    expect(filtered.models.length).toBeGreaterThan(0);
    expectErrorEnvelope(
      await request(server.url, "/v1/ai/models?limit=0", { headers: reader }),
      400,
      "INVALID_REQUEST",
    );
    expectErrorEnvelope(
      await request(server.url, "/v1/ai/models?status=sleeping", { headers: reader }),
      400,
      "INVALID_REQUEST",
    );
  });

  it("load answers 202 with queue position and estimate, then the model is loaded with measured memory", async () => {
    const res = await request(server.url, "/v1/ai/models/codellama-7b/load", {
      method: "POST",
      headers: manager,
      body: { priority: "high", timeout_seconds: 30 },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ model_id: "codellama-7b", status: "loading", queue_position: 0 });
    expect(
      (res.body as { estimated_completion_time_seconds: number }).estimated_completion_time_seconds,
    ).toBeGreaterThanOrEqual(1);

    const during = (await request(server.url, "/v1/ai/models/codellama-7b", { headers: reader }))
      .body as ModelJson;
    expect(during.status).toBe("loading");
    expect(during.progress).toEqual({ phase: "load", percent: 50 });

    await sleep(400);
    const after = (await request(server.url, "/v1/ai/models/codellama-7b", { headers: reader }))
      .body as ModelJson;
    expect(after).toMatchObject({ status: "loaded", memory_usage_mb: 64, progress: null });

    const again = await request(server.url, "/v1/ai/models/codellama-7b/load", {
      method: "POST",
      headers: manager,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "loaded", queue_position: 0 });
  });

  it("a second load queues behind the first", async () => {
    const slow = await request(server.url, "/v1/ai/models/slow-model/load", {
      method: "POST",
      headers: manager,
      body: {},
    });
    const queued = await request(server.url, "/v1/ai/models/starcoder-3b/load", {
      method: "POST",
      headers: manager,
      body: { priority: "low" },
    });
    expect(slow.body).toMatchObject({ queue_position: 0 });
    expect(queued.body).toMatchObject({ status: "loading", queue_position: 1 });
    expect(
      (queued.body as { estimated_completion_time_seconds: number }).estimated_completion_time_seconds,
    ).toBeGreaterThanOrEqual(1);
  });

  it("unload frees the memory it measured", async () => {
    const res = await request(server.url, "/v1/ai/models/codellama-7b/unload", {
      method: "POST",
      headers: manager,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_id: "codellama-7b", status: "unloaded", memory_freed_mb: 64 });
    expect(typeof (res.body as { unload_time_ms: number }).unload_time_ms).toBe("number");
    const after = (await request(server.url, "/v1/ai/models/codellama-7b", { headers: reader }))
      .body as ModelJson;
    expect(after).toMatchObject({ status: "available", memory_usage_mb: 0 });
  });

  it("unknown model → 404 MODEL_NOT_FOUND with available models and a suggestion", async () => {
    const res = await request(server.url, "/v1/ai/models/codellama-13b/load", {
      method: "POST",
      headers: manager,
    });
    const error = expectErrorEnvelope(res, 404, "MODEL_NOT_FOUND");
    expect(error.message).toBe("Requested model 'codellama-13b' is not available");
    expect(error.details).toEqual({
      available_models: ["codellama-7b", "starcoder-3b", "slow-model"],
      suggestion: "Use 'codellama-7b' instead",
    });
  });

  it("load and unload need models:manage; bad bodies are 400s", async () => {
    expectErrorEnvelope(
      await request(server.url, "/v1/ai/models/starcoder-3b/load", { method: "POST", headers: reader }),
      403,
      "FORBIDDEN",
    );
    const bad = await request(server.url, "/v1/ai/models/starcoder-3b/load", {
      method: "POST",
      headers: manager,
      body: { priority: "urgent", timeout_seconds: -5 },
    });
    const error = expectErrorEnvelope(bad, 400, "INVALID_REQUEST");
    expect((error.details.issues as Array<{ path: string }>).map((i) => i.path).sort()).toEqual([
      "priority",
      "timeout_seconds",
    ]);
  });

  it("performance_metrics come from the requests each model served", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await request(server.url, "/v1/ai/inference/generation", {
        method: "POST",
        headers: reader,
        body: { model_id: "codellama-7b", prompt: "write a function" },
      });
      expect(res.status).toBe(200);
    }
    const served = (await request(server.url, "/v1/ai/models/codellama-7b", { headers: reader }))
      .body as ModelJson;
    expect(served.performance_metrics.success_rate).toBe(1);
    expect(served.performance_metrics.avg_inference_time_ms).toBeGreaterThanOrEqual(0);
    const idle = (await request(server.url, "/v1/ai/models/starcoder-3b", { headers: reader }))
      .body as ModelJson;
    expect(idle.performance_metrics).toEqual({ avg_inference_time_ms: null, success_rate: null });
  });
});
