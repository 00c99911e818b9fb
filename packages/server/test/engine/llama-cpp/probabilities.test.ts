/**
 * Token probabilities of greedy requests come from `controlledEvaluate` (no vocabulary sort)
 * rather than node-llama-cpp's `confidence`: they must be the same numbers, token for token.
 */
import { getLlama } from "node-llama-cpp";
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

/** node-llama-cpp alone: the prompt's tokens and `confidence` on every greedy step. */
async function reference(prompt: string, maxTokens: number) {
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
    const steps: { text: string; logprob: number }[] = [];
    const previous = [...tokens];
    for await (const step of context
      .getSequence()
      .evaluateWithMetadata(tokens, { confidence: true }, { temperature: 0 })) {
      // With the tokens before it, as the provider decodes text (a leading space survives).
      steps.push({
        text: direct.detokenize([step.token], false, previous),
        logprob: Math.log(step.confidence),
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
