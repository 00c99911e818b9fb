/**
 * Real llama.cpp inference on generated random-weight models: the text is gibberish, so these
 * tests check structure (usage, logprobs, stop handling, streaming), never content.
 */
import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenerationResult, LoadedModel, LoadProgress } from "../../../src/engine/providers/provider.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";
import { collect, expectApiError, tempCacheDir, tinyProvider } from "./fixtures.js";

let cache: Awaited<ReturnType<typeof tempCacheDir>>;
let model: LoadedModel;
const progress: LoadProgress[] = [];

beforeAll(async () => {
  cache = await tempCacheDir();
  const provider = await tinyProvider(cache.path, { parallelSequences: 2 });
  model = await provider.load({ onProgress: (p) => progress.push(p) });
});

afterAll(async () => {
  await model?.unload();
  await cache?.remove();
  await removeGeneratedModels();
});

function expectWellFormed(result: GenerationResult, maxTokens: number) {
  expect(result.usage.promptTokens).toBeGreaterThan(0);
  expect(result.usage.completionTokens).toBeGreaterThan(0);
  expect(result.usage.completionTokens).toBeLessThanOrEqual(maxTokens);
  if (result.finishReason === "length") expect(result.usage.completionTokens).toBe(maxTokens);
  expect(result.tokens).toHaveLength(result.usage.completionTokens);
  for (const token of result.tokens ?? []) {
    expect(token.logprob).toBeLessThanOrEqual(0);
    expect(Number.isFinite(token.logprob)).toBe(true);
  }
}

describe("llama-cpp provider: load", () => {
  it("loads a generated GGUF and reports what it can do", async () => {
    expect(model.capabilities).toEqual({ chat: true, fim: true, logprobs: true, contextLength: 512 });
    expect(model.memoryBytes).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual({ phase: "load", fraction: 1 });
    expect(progress.every((p) => p.phase === "load")).toBe(true);
    const provider = await tinyProvider(cache.path);
    expect(await provider.estimateSizeBytes()).toBe((await stat(await tinyLlamaModelPath())).size);
  });
});

describe("llama-cpp provider: 4-bit weights", () => {
  it("loads and runs a q4_0 model on parallel sequences", async () => {
    const provider = await tinyProvider(cache.path, { parallelSequences: 4 }, { tensorType: "q4_0" });
    const q4 = await provider.load();
    try {
      const results = await Promise.all(
        ["a", "b", "c", "d"].map((prompt) =>
          q4.generate({ input: { kind: "completion", prompt }, sampling: { maxTokens: 12 }, logprobs: true }),
        ),
      );
      for (const result of results) expectWellFormed(result, 12);
    } finally {
      await q4.unload();
    }
  });
});

describe("llama-cpp provider: generate", () => {
  it("answers a chat through the GGUF chat template", async () => {
    const result = await model.generate({
      input: {
        kind: "chat",
        messages: [
          { role: "system", content: "You write Python." },
          { role: "user", content: "def add(a, b):" },
        ],
      },
      sampling: { maxTokens: 16, temperature: 0.8, seed: 7 },
      logprobs: true,
    });
    expectWellFormed(result, 16);
    // The template wraps both messages in turn markers: far more tokens than the raw text.
    expect(result.usage.promptTokens).toBeGreaterThan(15);
  });

  it("completes a raw prompt", async () => {
    const result = await model.generate({
      input: { kind: "completion", prompt: "def hello():\n    return" },
      sampling: { maxTokens: 12 },
      logprobs: true,
    });
    expectWellFormed(result, 12);
  });

  it("fills in the middle with the model's FIM tokens", async () => {
    const result = await model.generate({
      input: { kind: "fim", prefix: "def add(a, b):\n    return ", suffix: "\n\nprint(add(1, 2))\n" },
      sampling: { maxTokens: 12 },
      logprobs: true,
    });
    // <PRE> prefix <SUF> suffix <MID>, after BOS.
    expect(result.usage.promptTokens).toBeGreaterThan(4);
    expectWellFormed(result, 12);
  });

  it("leaves logprobs out unless asked", async () => {
    const result = await model.generate({
      input: { kind: "completion", prompt: "x" },
      sampling: { maxTokens: 4 },
    });
    expect(result.tokens).toBeUndefined();
  });

  it("repeats itself for the same seed and accepts penalties", async () => {
    const request = {
      input: { kind: "completion" as const, prompt: "import os" },
      sampling: {
        maxTokens: 20,
        temperature: 1,
        topP: 0.9,
        seed: 1234,
        frequencyPenalty: 0.5,
        presencePenalty: 0.3,
      },
    };
    const [a, b] = [await model.generate(request), await model.generate(request)];
    expect(a.text).toBe(b.text);
    expect(a.usage).toEqual(b.usage);
  });

  it("cuts the text before a stop string", async () => {
    const request = {
      input: { kind: "completion" as const, prompt: "class A:" },
      sampling: { maxTokens: 40 },
    };
    const full = await model.generate(request); // greedy: the same text every time
    const candidates = [...full.text.slice(4)].map((_, i) => full.text.slice(4 + i, 6 + i));
    const stop = candidates.find((s) => s.length === 2 && !s.includes("\uFFFD") && s.trim() !== "");
    expect(stop, `no usable stop string in ${JSON.stringify(full.text)}`).toBeDefined();
    const cut = await model.generate({ ...request, sampling: { ...request.sampling, stop: [stop ?? ""] } });
    expect(cut.finishReason).toBe("stop");
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop ?? "")));
  });

  it("rejects a prompt that does not fit the context", async () => {
    const error = await expectApiError(
      model.generate({ input: { kind: "completion", prompt: "hello world ".repeat(400) } }),
    );
    expect(error.code).toBe("INVALID_REQUEST");
    expect(error.message).toMatch(/context holds 512/);
  });
});

describe("llama-cpp provider: stream", () => {
  it("streams chunks that add up to the generated text", async () => {
    const request = {
      input: { kind: "chat" as const, messages: [{ role: "user" as const, content: "hello" }] },
      sampling: { maxTokens: 24 },
      logprobs: true,
    };
    const chunks = await collect(model.stream(request));
    const result = await model.generate(request);
    expect(chunks.length).toBeGreaterThan(2);
    const last = chunks.at(-1);
    expect(last?.finishReason).toBe(result.finishReason);
    expect(last?.usage).toEqual(result.usage);
    expect(chunks.slice(0, -1).every((c) => c.finishReason === undefined)).toBe(true);
    expect(chunks.map((c) => c.text).join("")).toBe(result.text);
    expect(chunks.flatMap((c) => c.tokens ?? [])).toHaveLength(result.usage.completionTokens);
  });
});

describe("llama-cpp provider: a model without FIM tokens or chat template", () => {
  let plain: LoadedModel;
  beforeAll(async () => {
    const provider = await tinyProvider(cache.path, {}, { withFim: false, withChatTemplate: false });
    plain = await provider.load();
  });
  afterAll(() => plain?.unload());

  it("says fim: false and rejects FIM requests", async () => {
    expect(plain.capabilities.fim).toBe(false);
    const error = await expectApiError(plain.generate({ input: { kind: "fim", prefix: "a", suffix: "b" } }));
    expect(error.code).toBe("INVALID_REQUEST");
  });

  it("still chats, through a plain role: content transcript", async () => {
    const result = await plain.generate({
      input: { kind: "chat", messages: [{ role: "user", content: "hi" }] },
      sampling: { maxTokens: 8 },
      logprobs: true,
    });
    expectWellFormed(result, 8);
  });
});
