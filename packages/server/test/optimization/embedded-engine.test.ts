/**
 * The optimization API on the real embedded runtime (node-llama-cpp) with a generated tiny GGUF
 * model. Its output is gibberish by construction — exactly the model output the client must be
 * protected from: the server answers valid, empty results or a clean {error}, never a broken 200.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientRun } from "../helpers/codeflash-client/index.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../helpers/gguf/tiny-llama-model.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";
import { vector } from "./codeflash-fixture.js";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    models: [
      {
        id: "tiny",
        provider: "llama-cpp",
        source: await tinyLlamaModelPath({ withFim: false }),
        threads: 1,
        gpu_layers: 0,
        context_length: 8192,
      },
    ],
    optimization: { max_tokens: 64 },
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await removeGeneratedModels();
});

const post = (path: string, body: unknown) =>
  request(server.url, path, { method: "POST", headers: { authorization: "Bearer cf-local" }, body });

describe("optimization API on the embedded engine", () => {
  it("optimize: the model's gibberish is traced and dropped; the client gets a valid (empty) list", async () => {
    const run = new ClientRun();
    const body = { ...(vector("01").request as object), trace_id: "embedded-1", n_candidates: 2 };
    const res = await post("/ai/optimize", body);
    const verdict = await run.judge("/ai/optimize", body, res.status, res.text);
    expect(verdict.outcome, res.text).toBe("accepted");
    expect(verdict.problems).toEqual([]);
    const trace = await request(server.url, "/v1/ai/traces/embedded-1");
    const call = (
      trace.body as { calls: { model_calls: { model: string; output: string | null }[]; drops: unknown[] }[] }
    ).calls[0];
    expect(call?.model_calls).toHaveLength(2);
    expect(call?.model_calls.every((m) => m.model === "tiny" && typeof m.output === "string")).toBe(true);
    expect(call?.drops.length).toBe(2 - (res.body as { optimizations: unknown[] }).optimizations.length);
  }, 120_000);

  it("code_repair: no usable candidate is a 502 {error}, which the client logs and moves past", async () => {
    const body = vector("06").request;
    const res = await post("/ai/code_repair", body);
    const verdict = await new ClientRun().judge("/ai/code_repair", body, res.status, res.text);
    expect(verdict.problems).toEqual([]);
    expect(["accepted", "failed_call"]).toContain(verdict.outcome);
    if (res.status !== 200) expect(res.status).toBe(502);
  }, 120_000);
});
