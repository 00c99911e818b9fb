import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  discoverOllamaModels,
  discoverOpenAICompatibleModels,
  ollamaOrigin,
} from "../../../src/engine/providers/openai-compatible/index.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../../helpers/scripted-upstream/index.js";
import { expectApiError, timed } from "./remote-test-kit.js";

describe("model discovery", () => {
  let upstream: ScriptedUpstream;

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ models: ["qwen2.5-coder:7b", "llama3.2:latest"] });
  });
  afterAll(async () => {
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it("lists an OpenAI-compatible server's models, from its root or its /v1 base", async () => {
    const expected = ["qwen2.5-coder:7b", "llama3.2:latest"];
    expect(await discoverOpenAICompatibleModels(upstream.url, "key-1")).toEqual(expected);
    expect(await discoverOpenAICompatibleModels(`${upstream.url}/v1/`)).toEqual(expected);
    const [first] = upstream.requestsTo("models");
    expect(first?.headers.authorization).toBe("Bearer key-1");
    expect(upstream.requestsTo("models").map((r) => r.path)).toEqual(["/v1/models", "/v1/models"]);
    expect(await upstream.waitForNoLeakedSockets(1_000)).toBe(true);
  });

  it("maps listing failures to upstream errors", async () => {
    upstream.always("models", { status: 401, errorMessage: "bad key" });
    const error = await expectApiError(discoverOpenAICompatibleModels(upstream.url), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({ status: 401 });
    upstream.always("models", { fault: "stall" });
    const { ms, error: timeout } = await timed(() =>
      discoverOpenAICompatibleModels(upstream.url, undefined, { timeoutMs: 200 }),
    );
    await expectApiError(Promise.reject(timeout), "UPSTREAM_TIMEOUT");
    expect(ms).toBeLessThan(700);
  });

  it("lists Ollama models from /api/tags, with or without a scheme in the host", async () => {
    expect(await discoverOllamaModels(upstream.url)).toEqual(["qwen2.5-coder:7b", "llama3.2:latest"]);
    expect(await discoverOllamaModels(`127.0.0.1:${upstream.port}`)).toEqual([
      "qwen2.5-coder:7b",
      "llama3.2:latest",
    ]);
    expect(ollamaOrigin("localhost:11434")).toBe("http://localhost:11434");
    expect(await upstream.waitForNoLeakedSockets(1_000)).toBe(true);
  });

  it("maps Ollama failures to upstream errors", async () => {
    upstream.script("ollama-tags", { status: 500 }, { fault: "garbage" }, { fault: "stall" });
    await expectApiError(discoverOllamaModels(upstream.url), "UPSTREAM_ERROR");
    await expectApiError(discoverOllamaModels(upstream.url), "UPSTREAM_ERROR");
    await expectApiError(discoverOllamaModels(upstream.url, { timeoutMs: 200 }), "UPSTREAM_TIMEOUT");
  });
});
