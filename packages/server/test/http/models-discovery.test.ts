import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { request, startTestServer } from "../helpers/test-server.js";

let upstream: ScriptedUpstream;

beforeAll(async () => {
  upstream = await startScriptedUpstream({ models: ["coder-32b", "qwen2.5-coder:7b"] });
});
afterAll(() => upstream.close());

async function modelIds(url: string): Promise<Array<{ id: string; provider: string }>> {
  const body = (await request(url, "/v1/ai/models")).body as {
    models: Array<{ id: string; provider: string }>;
  };
  return body.models.map(({ id, provider }) => ({ id, provider }));
}

describe("models discovered from the environment at start-up", () => {
  it("registers what OPENAI_BASE_URL and OLLAMA_HOST serve, configured ids winning", async () => {
    const server = await startTestServer(
      { models: [{ id: "coder-32b", provider: "llama-cpp", source: "/m/local.gguf" }] },
      {
        env: { OPENAI_BASE_URL: `${upstream.url}/v1`, OPENAI_API_KEY: "sk-test", OLLAMA_HOST: upstream.url },
      },
    );
    try {
      expect(await modelIds(server.url)).toEqual([
        { id: "coder-32b", provider: "llama-cpp" },
        { id: "qwen2.5-coder:7b", provider: "openai-compatible" },
      ]);
      const viaOpenAI = upstream.requestsTo("models")[0];
      expect(viaOpenAI?.headers.authorization).toBe("Bearer sk-test");
      expect(upstream.requestsTo("ollama-tags")).toHaveLength(1);

      // Discovered models really work: load checks the upstream serves the model.
      const load = await request(server.url, "/v1/ai/models/qwen2.5-coder:7b/load", { method: "POST" });
      expect([200, 202]).toContain(load.status);
      await server.services.registry.load("qwen2.5-coder:7b");
      expect(server.services.registry.get("qwen2.5-coder:7b").status).toBe("loaded");
    } finally {
      await server.stop();
    }
  });

  it("an unreachable source is skipped quickly and the server starts anyway", async () => {
    const started = performance.now();
    const server = await startTestServer(
      { models: [], engine: { discovery_timeout_ms: 500 } },
      { env: { OPENAI_BASE_URL: "http://127.0.0.1:1/v1", OLLAMA_HOST: "127.0.0.1:1" } },
    );
    try {
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(await modelIds(server.url)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("discovery can be turned off", async () => {
    const server = await startTestServer(
      { models: [], engine: { discovery: false } },
      { env: { OPENAI_BASE_URL: `${upstream.url}/v1` } },
    );
    try {
      expect(await modelIds(server.url)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
