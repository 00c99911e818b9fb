/**
 * Token probabilities of greedy requests come from `controlledEvaluate` (no vocabulary sort)
 * rather than node-llama-cpp's `confidence`: they must be the same numbers, token for token.
 */
import { getLlama, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadedModel } from "../../../src/engine/providers/provider.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";
import { CPU_ONE_THREAD, tempCacheDir, tinyProvider } from "./fixtures.js";

let cache: Awaited<ReturnType<typeof tempCacheDir>>;
let model: LoadedModel;

beforeAll(async () => {
  cache = await tempCacheDir();
  model = await (await tinyProvider(cache.path)).load();
});

afterAll(async () => {
  await model?.unload();
  await cache?.remove();
  await removeGeneratedModels();
});

/**
 * node-llama-cpp alone: the prompt's tokens, `confidence` on every greedy step and the `top` most
 * likely tokens of its full `probabilities` list.
 */
async function reference(prompt: string, maxTokens: number, top = 0) {
  const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1 });
  const direct = await llama.loadModel({ modelPath: await tinyLlamaModelPath() });
  const context = await direct.createContext({
    contextSize: 512,
    sequences: 1,
    threads: CPU_ONE_THREAD.threads,
  });
  try {
    const bos = direct.tokens.bos;
    const tokens = [...(bos === null ? [] : [bos]), ...direct.tokenize(prompt, false)];
    const steps: { text: string; logprob: number; top: { text: string; logprob: number }[] }[] = [];
    const previous = [...tokens];
    for await (const step of context
      .getSequence()
      .evaluateWithMetadata(tokens, { confidence: true, probabilities: true }, { temperature: 0 })) {
      // With the tokens before it, as the provider decodes text (a leading space survives).
      const text = (token: Token) => direct.detokenize([token], false, previous);
      const ranked = [...(step.probabilities ?? new Map<Token, number>())].sort(([, a], [, b]) => b - a);
      steps.push({
        text: text(step.token),
        logprob: Math.log(step.confidence),
        top: ranked.slice(0, top).map(([token, p]) => ({ text: text(token), logprob: Math.log(p) })),
      });
      previous.push(step.token);
      if (steps.length >= maxTokens) break;
    }
    return steps;
  } finally {
    await context.dispose();
    await direct.dispose();
  }
}

describe("llama-cpp provider: token probabilities", () => {
  it("gives greedy requests the probabilities node-llama-cpp's confidence gives", async () => {
    const result = await model.generate({
      input: { kind: "completion", prompt: "def add" },
      sampling: { maxTokens: 12, temperature: 0 },
      logprobs: true,
    });
    const expected = await reference("def add", 12);
    const got = result.tokens ?? [];
    expect(got.length).toBeGreaterThan(0);
    expect(got.map((t) => t.token)).toEqual(expected.slice(0, got.length).map((t) => t.text));
    for (const [i, token] of got.entries()) expect(token.logprob).toBeCloseTo(expected[i]?.logprob ?? 0, 4);
    // Real distributions: not all certain, never above 1.
    expect(got.some((t) => t.logprob < -1e-3)).toBe(true);
  });

  it("lists the most likely tokens of each greedy step, as node-llama-cpp's probabilities rank them", async () => {
    const result = await model.generate({
      input: { kind: "completion", prompt: "def add" },
      sampling: { maxTokens: 8, temperature: 0 },
      logprobs: true,
      topLogprobs: 3,
    });
    const expected = await reference("def add", 8, 3);
    const got = result.tokens ?? [];
    expect(got.length).toBeGreaterThan(0);
    for (const [i, token] of got.entries()) {
      const want = expected[i]!;
      expect(token.top?.map((t) => t.token)).toEqual(want.top.map((t) => t.text));
      for (const [j, alternative] of (token.top ?? []).entries())
        expect(alternative.logprob).toBeCloseTo(want.top[j]?.logprob ?? 0, 4);
      // Greedy: the sampled token is the most likely one.
      expect(token.top?.[0]).toEqual({ token: token.token, logprob: token.logprob });
    }
    // A random model spreads its bets: somewhere the runner-up is not negligible.
    expect(got.some((t) => (t.top?.[1]?.logprob ?? -Infinity) > -10)).toBe(true);
  });

  it("lists alternatives only when asked for them", async () => {
    const result = await model.generate({
      input: { kind: "completion", prompt: "def add" },
      sampling: { maxTokens: 3, temperature: 0 },
      logprobs: true,
    });
    expect(result.tokens?.length).toBeGreaterThan(0);
    for (const token of result.tokens ?? []) expect(token.top).toBeUndefined();
  });

  it("lists the most likely tokens of sampled steps too, most likely first", async () => {
    const seeded = await model.generate({
      input: { kind: "completion", prompt: "x" },
      sampling: { maxTokens: 6, temperature: 0.8, seed: 3 },
      logprobs: true,
      topLogprobs: 4,
    });
    expect(seeded.tokens).toHaveLength(seeded.usage.completionTokens);
    for (const token of seeded.tokens ?? []) {
      const top = token.top ?? [];
      expect(top).toHaveLength(4);
      const logprobs = top.map((t) => t.logprob);
      expect(logprobs).toEqual([...logprobs].sort((a, b) => b - a));
      expect(token.logprob).toBeLessThanOrEqual(logprobs[0]! + 1e-9);
      expect(logprobs.reduce((sum, l) => sum + Math.exp(l), 0)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it("reports probabilities for sampled requests too (node-llama-cpp's confidence)", async () => {
    const seeded = await model.generate({
      input: { kind: "completion", prompt: "x" },
      sampling: { maxTokens: 8, temperature: 0.8, seed: 3 },
      logprobs: true,
    });
    expect(seeded.tokens).toHaveLength(seeded.usage.completionTokens);
    for (const token of seeded.tokens ?? []) expect(token.logprob).toBeLessThanOrEqual(0);
  });
});
