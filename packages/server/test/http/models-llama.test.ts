import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeGeneratedModels, tinyLlamaModelPath } from "../helpers/gguf/tiny-llama-model.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

interface ModelJson {
  status: string;
  memory_usage_mb: number;
  error: string | null;
  context_length: number | null;
}

let server: TestServer;

async function waitForStatus(
  id: string,
  done: (m: ModelJson) => boolean,
  timeoutMs = 20_000,
): Promise<ModelJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const model = (await request(server.url, `/v1/ai/models/${id}`)).body as ModelJson;
    if (done(model)) return model;
    if (Date.now() > deadline) throw new Error(`model ${id} stuck in ${JSON.stringify(model)}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  // A model big enough that its memory is measurable, small enough to generate in a blink.
  const source = await tinyLlamaModelPath({ layers: 4, dims: 256, vocab: 4096, contextLength: 2048 });
  const placeholder = await startTestServer();
  const corrupt = join(placeholder.dataDir, "corrupt.gguf");
  writeFileSync(corrupt, Buffer.from("GGUF this is not a model at all"));
  await placeholder.close();
  server = await startTestServer({
    models: [
      { id: "tiny", provider: "llama-cpp", source, threads: 1, gpu_layers: 0, context_length: 512 },
      { id: "corrupt", provider: "llama-cpp", source: corrupt, threads: 1, gpu_layers: 0 },
      { id: "missing", provider: "llama-cpp", source: "/nonexistent/model.gguf", threads: 1, gpu_layers: 0 },
    ],
  });
});
afterAll(async () => {
  await server.stop();
  await removeGeneratedModels();
});

describe("/v1/ai/models with the embedded llama.cpp runtime", () => {
  it("loads real weights, reports the memory it took, and frees it on unload", async () => {
    const res = await request(server.url, "/v1/ai/models/tiny/load", { method: "POST", body: {} });
    expect(res.status).toBe(202);
    const loaded = await waitForStatus("tiny", (m) => m.status !== "loading");
    expect(loaded.status).toBe("loaded");
    expect(loaded.memory_usage_mb).toBeGreaterThan(15);
    expect(loaded.context_length).toBe(512);

    const lease = await server.services.registry.acquire("tiny");
    const result = await lease.model.generate({
      input: { kind: "completion", prompt: "def add(a, b):" },
      sampling: { maxTokens: 8, temperature: 0 },
    });
    lease.release();
    expect(result.usage.completionTokens).toBeGreaterThan(0);

    const unloaded = await request(server.url, "/v1/ai/models/tiny/unload", { method: "POST" });
    expect(unloaded.status).toBe(200);
    expect((unloaded.body as { memory_freed_mb: number }).memory_freed_mb).toBe(loaded.memory_usage_mb);
    expect(((await request(server.url, "/v1/ai/models/tiny")).body as ModelJson).status).toBe("available");
  });

  it("a corrupt or missing file ends in status error with the reason, and the server keeps serving", async () => {
    for (const id of ["corrupt", "missing"]) {
      const res = await request(server.url, `/v1/ai/models/${id}/load`, { method: "POST" });
      expect(res.status).toBe(202);
      const failed = await waitForStatus(id, (m) => m.status !== "loading");
      expect(failed.status).toBe("error");
      expect(failed.error).toMatch(
        id === "missing" ? /not found|does not exist|missing/i : /GGUF|corrupt|truncated/i,
      );
    }
    expect((await request(server.url, "/healthz")).status).toBe(200);
  });
});
