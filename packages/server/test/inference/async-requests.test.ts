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
  result: { completion: { text: string } } | null;
  error: { code: string } | null;
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
    expect(done.error).toBeNull();
  });

  it("a principal sees only its own requests", async () => {
    upstream.always("completions", { reply: "pass" });
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body(),
    });
    const { request_id } = res.body as { request_id: string };
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

  it("a request that cannot run is marked failed with the reason", async () => {
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body({ async: true }, "no-such-model"),
    });
    const failed = await waitFor(
      server.url,
      headers,
      (res.body as { request_id: string }).request_id,
      (s) => s.status === "failed",
    );
    expect(failed.error?.code).toBe("MODEL_NOT_FOUND");
  });
});

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
