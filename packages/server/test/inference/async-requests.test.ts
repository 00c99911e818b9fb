import { setTimeout as sleep } from "node:timers/promises";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { createLogger } from "../../src/observability/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { request, testConfig } from "../helpers/test-server.js";

let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await startScriptedUpstream({ models: ["coder"] });
});
afterAll(() => upstream.close());
beforeEach(() => upstream.reset());

function config(dataDir?: string) {
  return testConfig(
    {
      auth: { required: true },
      models: [
        {
          id: "coder",
          provider: "openai-compatible",
          base_url: `${upstream.url}/v1`,
          fim: true,
          max_retries: 0,
        },
      ],
    },
    dataDir,
  );
}

function start(dataDir?: string): Promise<RunningServer> {
  return startServer(config(dataDir), { logger: createLogger("silent"), processMetrics: false, env: {} });
}

const body = (options: Record<string, unknown> = { async: true }, model = "coder") => ({
  model_id: model,
  context: { language: "python", code: "def f(x):\n    \n", cursor_position: 14 },
  parameters: { max_tokens: 10 },
  options,
});

interface Status {
  request_id: string;
  status: string;
  result: { completion: { text: string; metadata: { model_used: string } }; suggestions: unknown[] } | null;
  error: { code: string; message: string } | null;
  created_at: string;
  completed_at: string | null;
}

async function waitFor(
  url: string,
  headers: Record<string, string>,
  id: string,
  done: (s: Status) => boolean,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await request(url, `/v1/ai/inference/requests/${id}`, { headers });
    const status = res.body as Status;
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`request ${id} stuck: ${res.text}`);
    await sleep(50);
  }
}

describe("async inference requests", () => {
  let server: RunningServer;
  let headers: Record<string, string>;
  let other: Record<string, string>;
  beforeAll(async () => {
    server = await start();
    const keys = server.services.store.apiKeys;
    headers = {
      authorization: `Bearer ${(await createApiKey(keys, { name: "a", scopes: ["inference"] })).key}`,
    };
    other = {
      authorization: `Bearer ${(await createApiKey(keys, { name: "b", scopes: ["inference"] })).key}`,
    };
  });
  afterAll(async () => {
    await server.close();
    rmSync(server.services.config.data_dir, { recursive: true, force: true });
  });

  it("202 with a request id, then the same body as the synchronous call", async () => {
    upstream.always("completions", { reply: "return x * 2" });
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body(),
    });
    expect(res.status, res.text).toBe(202);
    const { request_id, status } = res.body as { request_id: string; status: string };
    expect(status).toBe("queued");
    const done = await waitFor(server.url, headers, request_id, (s) => s.status === "completed");
    expect(done.result?.completion.text).toBe("return x * 2");
    expect(done.result?.completion.metadata.model_used).toBe("coder");
    expect(done.result?.suggestions).toEqual([]);
    expect(done.error).toBeNull();
    expect(Date.parse(done.created_at)).toBeLessThanOrEqual(Date.parse(done.completed_at ?? ""));
  });

  it("a principal sees only its own requests", async () => {
    upstream.always("completions", { reply: "pass" });
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body(),
    });
    const { request_id } = res.body as { request_id: string };
    await waitFor(server.url, headers, request_id, (s) => s.status === "completed");
    expectErrorEnvelope(
      await request(server.url, `/v1/ai/inference/requests/${request_id}`, { headers: other }),
      404,
      "NOT_FOUND",
    );
    expectErrorEnvelope(
      await request(server.url, "/v1/ai/inference/requests/req_nope", { headers }),
      404,
      "NOT_FOUND",
    );
  });

  it("an unknown model is a 404 at once, not a request that fails later", async () => {
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body({ async: true }, "no-such-model"),
    });
    expectErrorEnvelope(res, 404, "MODEL_NOT_FOUND");
  });

  it("a request whose model fails is marked failed with the error", async () => {
    upstream.always("completions", { status: 500, errorMessage: "the model server broke" });
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body(),
    });
    const failed = await waitFor(
      server.url,
      headers,
      (res.body as { request_id: string }).request_id,
      (s) => s.status === "failed",
    );
    expect(failed.error?.code).toBe("UPSTREAM_ERROR");
    expect(failed.result).toBeNull();
    expect(failed.completed_at).not.toBeNull();
  });
});

/** A row as a previous process (perhaps an older version) would have left it. */
async function leaveRow(
  server: RunningServer,
  row: { id: string; principal: string; status: string; body: unknown; attempts?: number; kind?: string },
) {
  await server.services.store.db
    .insertInto("inference_requests")
    .values({
      id: row.id,
      principal_id: row.principal,
      kind: row.kind ?? "completion",
      status: row.status,
      body: JSON.stringify(row.body),
      result: null,
      error: null,
      attempts: row.attempts ?? (row.status === "running" ? 1 : 0),
      created_at: new Date().toISOString(),
      started_at: row.status === "running" ? new Date().toISOString() : null,
      completed_at: null,
    })
    .execute();
}

describe("across a restart", () => {
  it("an accepted request interrupted by shutdown completes after the server comes back", async () => {
    upstream.always("completions", { reply: "return 42", latencyMs: 1_500 });
    const first = await start();
    const dataDir = first.services.config.data_dir;
    const { key } = await createApiKey(first.services.store.apiKeys, { name: "a", scopes: ["inference"] });
    const headers = { authorization: `Bearer ${key}` };
    const res = await request(first.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body(),
    });
    const { request_id } = res.body as { request_id: string };
    await waitFor(first.url, headers, request_id, (s) => s.status === "running");
    await first.close();

    upstream.always("completions", { reply: "return 42" });
    const second = await start(dataDir);
    try {
      const done = await waitFor(second.url, headers, request_id, (s) => s.status === "completed");
      expect(done.result?.completion.text).toBe("return 42");
      // Claimed once by each server: the interrupted run was queued again, not lost or duplicated.
      expect((await second.services.store.inferenceRequests.get(request_id))?.attempts).toBe(2);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("requests a crashed process left behind", () => {
  it("running ones are run again, and what cannot run is marked failed with the reason", async () => {
    upstream.always("completions", { reply: "return 7" });
    const first = await start();
    const dataDir = first.services.config.data_dir;
    const { key, record } = await createApiKey(first.services.store.apiKeys, {
      name: "a",
      scopes: ["inference"],
    });
    const headers = { authorization: `Bearer ${key}` };
    const principal = `key:${record.id}`;
    // What a crash leaves: rows still `running` that no live process will finish.
    await leaveRow(first, { id: "req_crashed", principal, status: "running", body: body() });
    await leaveRow(first, {
      id: "req_doomed",
      principal,
      status: "running",
      body: body(),
      attempts: 3,
    });
    await first.close();

    const second = await start(dataDir);
    try {
      // Rows an older version queued: a body that no longer validates, a kind nobody runs.
      await leaveRow(second, { id: "req_stale", principal, status: "queued", body: { model_id: 5 } });
      await leaveRow(second, { id: "req_alien", principal, status: "queued", body: {}, kind: "telepathy" });

      const crashed = await waitFor(second.url, headers, "req_crashed", (s) => s.status === "completed");
      expect(crashed.result?.completion.text).toBe("return 7");
      expect((await second.services.store.inferenceRequests.get("req_crashed"))?.attempts).toBe(2);

      const doomed = await waitFor(second.url, headers, "req_doomed", (s) => s.status === "failed");
      expect(doomed.error?.message).toMatch(/interrupted 3 times/);

      const stale = await waitFor(second.url, headers, "req_stale", (s) => s.status === "failed");
      expect(stale.error?.code).toBe("INVALID_REQUEST");
      expect(stale.error?.message).toMatch(/no longer valid/);

      const alien = await waitFor(second.url, headers, "req_alien", (s) => s.status === "failed");
      expect(alien.error?.message).toMatch(/cannot run 'telepathy' requests/);
      // Only the one that could run reached the model.
      expect(upstream.requestsTo("completions")).toHaveLength(1);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
