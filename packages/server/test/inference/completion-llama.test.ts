import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../helpers/gguf/tiny-llama-model.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Completion on the real embedded runtime (node-llama-cpp) with a generated tiny GGUF model:
 * its text is gibberish by construction, so these tests assert structure — the FIM and the
 * instruction paths run, streamed deltas add up to the answer, and confidence comes from the
 * runtime's own token probabilities.
 */
let server: TestServer;
let headers: Record<string, string>;

beforeAll(async () => {
  const llama = { provider: "llama-cpp" as const, threads: 1, gpu_layers: 0, context_length: 512 };
  server = await startTestServer({
    auth: { required: true },
    models: [
      { id: "tiny", source: await tinyLlamaModelPath(), ...llama },
      { id: "tiny-chat", source: await tinyLlamaModelPath({ withFim: false }), ...llama },
    ],
  });
  const { key } = await createApiKey(server.services.store.apiKeys, { name: "ide", scopes: ["inference"] });
  headers = { authorization: `Bearer ${key}` };
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await removeGeneratedModels();
});

const code = "def add(a, b):\n    \n\nprint(add(1, 2))\n";
const body = (model: string, options: Record<string, unknown> = {}) => ({
  model_id: model,
  context: { language: "python", code, cursor_position: code.indexOf("    \n") + 4, file_path: "add.py" },
  parameters: { max_tokens: 12, temperature: 0 },
  options: { cache: false, ...options },
});

interface CompletionJson {
  completion: {
    text: string;
    confidence: number | null;
    metadata: { model_used: string; tokens_used: number; cache_hit: boolean };
  };
  suggestions: unknown[];
}

function expectRealConfidence(json: CompletionJson) {
  expect(json.completion.confidence).not.toBeNull();
  expect(json.completion.confidence).toBeGreaterThan(0);
  expect(json.completion.confidence).toBeLessThanOrEqual(1);
}

describe("completion on the embedded llama.cpp runtime", () => {
  it("the FIM model is detected from the GGUF and answers with confidence from token probabilities", async () => {
    expect((await server.services.runner.describe("tiny")).model.capabilities.fim).toBe(true);
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body("tiny"),
    });
    expect(res.status, res.text).toBe(200);
    const json = res.body as CompletionJson;
    expectRealConfidence(json);
    expect(json.completion.metadata).toMatchObject({ model_used: "tiny", cache_hit: false });
    expect(json.completion.metadata.tokens_used).toBeGreaterThan(0);
    expect(json.suggestions).toEqual([]);
  });

  it("streams deltas that add up to the done body's text", async () => {
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body("tiny", { stream: true })),
    });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = [...(await res.text()).matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2] ?? "null") as unknown,
    }));
    const done = events.at(-1);
    expect(done?.event, JSON.stringify(done)).toBe("done");
    const deltas = events.filter((e) => e.event === "delta").map((e) => (e.data as { text: string }).text);
    const json = done?.data as CompletionJson;
    expect(json.completion.text).toBe(deltas.join(""));
    expectRealConfidence(json);
  });

  it("a model without FIM tokens takes the instruction prompt through its chat template", async () => {
    expect((await server.services.runner.describe("tiny-chat")).model.capabilities.fim).toBe(false);
    const res = await request(server.url, "/v1/ai/inference/completion", {
      method: "POST",
      headers,
      body: body("tiny-chat"),
    });
    expect(res.status, res.text).toBe(200);
    expectRealConfidence(res.body as CompletionJson);
  });
});
