/**
 * Concurrent requests share one context as separate sequences; the rest queue first-in,
 * first-out; cancellation frees a sequence promptly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LlamaCppModel } from "../../../src/engine/providers/llama-cpp/index.js";
import type { GenerationRequest } from "../../../src/engine/providers/provider.js";
import { removeGeneratedModels } from "../../helpers/gguf/tiny-llama-model.js";
import { collect, openStream, tempCacheDir, tinyProvider } from "./fixtures.js";

let cache: Awaited<ReturnType<typeof tempCacheDir>>;

beforeAll(async () => {
  cache = await tempCacheDir();
});

afterAll(async () => {
  await cache?.remove();
  await removeGeneratedModels();
});

async function loadTiny(parallelSequences: number): Promise<LlamaCppModel> {
  const provider = await tinyProvider(cache.path, { parallelSequences });
  return (await provider.load()) as LlamaCppModel;
}

const completion = (prompt: string, maxTokens = 16): GenerationRequest => ({
  input: { kind: "completion", prompt },
  sampling: { maxTokens },
  logprobs: true,
});

/** Resolves once `predicate` holds (the sequence is handed back just after the stream ends). */
async function until(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("llama-cpp provider: cancellation", () => {
  let model: LlamaCppModel;
  beforeAll(async () => {
    model = await loadTiny(1);
  });
  afterAll(() => model?.unload());

  it("stops a stream within a second of the abort and frees its sequence", async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    let chunks = 0;
    let final: { finishReason?: string; usage?: { completionTokens: number } } | undefined;
    // No maxTokens: left alone it would run to the end of the 512-token context.
    for await (const chunk of model.stream({
      input: { kind: "completion", prompt: "def" },
      signal: controller.signal,
    })) {
      chunks += 1;
      if (chunks === 3) {
        abortedAt = performance.now();
        controller.abort();
      }
      if (chunk.finishReason !== undefined) final = chunk;
    }
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    expect(final?.finishReason).toBe("cancelled");
    expect(final?.usage?.completionTokens).toBeLessThan(100);

    // The only sequence serves the next request.
    const next = await model.generate(completion("import"));
    expect(next.finishReason).not.toBe("cancelled");
    expect(next.usage.completionTokens).toBeGreaterThan(0);
    await until(() => model.sequenceStats.active === 0);
  });

  it("frees the sequence when the consumer stops reading", async () => {
    for await (const chunk of model.stream(completion("while", 50))) {
      if (chunk.text !== "") break;
    }
    await until(() => model.sequenceStats.active === 0);
    const next = await model.generate(completion("for"));
    expect(next.usage.completionTokens).toBeGreaterThan(0);
  });

  it("answers 'cancelled' at once to a request aborted while it waits for a sequence", async () => {
    const holder = await openStream(model, completion("x", 30));
    await holder.first;
    const controller = new AbortController();
    const waiting = collect(model.stream({ ...completion("y"), signal: controller.signal }));
    await until(() => model.sequenceStats.queued === 1);
    controller.abort();
    const chunks = await waiting;
    expect(chunks).toEqual([
      { text: "", finishReason: "cancelled", usage: { promptTokens: 0, completionTokens: 0 } },
    ]);
    expect(model.sequenceStats.queued).toBe(0);
    await holder.drain();
  });

  it("returns 'cancelled' from generate() with an already aborted signal", async () => {
    const result = await model.generate({ ...completion("z"), signal: AbortSignal.abort() });
    expect(result.finishReason).toBe("cancelled");
    expect(result.text).toBe("");
  });
});

describe("llama-cpp provider: parallel sequences", () => {
  it("runs 4 requests at once on 4 sequences of one context", async () => {
    const model = await loadTiny(4);
    try {
      const streams = await Promise.all(
        ["a", "b", "c", "d"].map((p) => openStream(model, completion(p, 20))),
      );
      await Promise.all(streams.map((s) => s.first));
      expect(model.sequenceStats).toEqual({ active: 4, queued: 0, size: 4 });
      const results = await Promise.all(streams.map((s) => s.drain()));
      for (const chunks of results) {
        const last = chunks.at(-1);
        expect(last?.finishReason).toBeDefined();
        expect(last?.finishReason).not.toBe("cancelled");
      }
      // And plain generate() calls in parallel complete with real token counts.
      const answers = await Promise.all(
        [1, 2, 3, 4].map((i) => model.generate(completion(`value ${i}`, 12))),
      );
      for (const answer of answers) {
        expect(answer.usage.completionTokens).toBeGreaterThan(0);
        expect(answer.tokens).toHaveLength(answer.usage.completionTokens);
      }
    } finally {
      await model.unload();
    }
  });

  it("keeps generating for everyone while one consumer stops reading or cancels", async () => {
    const model = await loadTiny(4);
    try {
      // Neither read any further nor cancelled: its finished step must not hold the others back.
      const idle = await openStream(model, completion("idle", 40));
      await idle.first;
      const controller = new AbortController();
      const cancelled = collect(model.stream({ ...completion("gone", 200), signal: controller.signal }));
      const answers = Promise.all(["x", "y"].map((p) => model.generate(completion(p, 30))));
      setTimeout(() => controller.abort(), 20);
      const [results, cancelledChunks] = await Promise.all([answers, cancelled]);
      for (const result of results) {
        expect(result.finishReason).not.toBe("cancelled");
        expect(result.usage.completionTokens).toBeGreaterThan(0);
      }
      expect(cancelledChunks.at(-1)?.finishReason).toBe("cancelled");
      const rest = await idle.drain();
      expect(rest.at(-1)?.finishReason).toBeDefined();
      await until(() => model.sequenceStats.active === 0);
    } finally {
      await model.unload();
    }
  });

  it("queues requests beyond parallelSequences and serves them first-in, first-out", async () => {
    const model = await loadTiny(2);
    try {
      const [a, b] = await Promise.all([
        openStream(model, completion("a", 20)),
        openStream(model, completion("b", 20)),
      ]);
      await Promise.all([a.first, b.first]);
      const started: string[] = [];
      const c = openStream(model, completion("c", 20));
      const d = openStream(model, completion("d", 20));
      const [streamC, streamD] = await Promise.all([c, d]);
      streamC.first.then(() => started.push("c"));
      streamD.first.then(() => started.push("d"));
      await until(() => model.sequenceStats.queued === 2);
      expect(model.sequenceStats).toEqual({ active: 2, queued: 2, size: 2 });

      await a.drain(); // frees one sequence: the longest waiter (c) gets it
      await streamC.first;
      expect(started).toEqual(["c"]);
      await Promise.all([b.drain(), streamC.drain()]);
      await streamD.first;
      await streamD.drain();
      expect(started).toEqual(["c", "d"]);
      await until(() => model.sequenceStats.active === 0);
    } finally {
      await model.unload();
    }
  });

  it("rejects waiting and new requests once unloaded", async () => {
    const model = await loadTiny(1);
    const holder = await openStream(model, completion("a", 30));
    await holder.first;
    // Settled into a value right away: it rejects during unload(), before anyone awaits it.
    const waiting = model.generate(completion("b")).catch((err: unknown) => err);
    await until(() => model.sequenceStats.queued === 1);
    await model.unload();
    expect(await waiting).toMatchObject({ code: "MODEL_NOT_LOADED" });
    await expect(model.generate(completion("c"))).rejects.toMatchObject({ code: "MODEL_NOT_LOADED" });
    await holder.drain().catch(() => undefined);
  });
});
