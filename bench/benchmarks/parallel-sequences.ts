/**
 * Total generated tokens per second of 4 concurrent requests on one model loaded with 4 parallel
 * sequences (node-llama-cpp batches the sequences' tokens into shared decode calls) against the
 * same 4 requests on the same model loaded with 1 sequence (the provider's pool serves them one
 * after another), in alternating rounds. See bench/README.md.
 */
import type { GenerationResult, LoadedModel } from "../../packages/server/src/engine/providers/provider.js";
import { type BenchResult, type BenchSide, type BenchTarget } from "../lib/benchmark.js";
import {
  generateBenchModel,
  llamaCpuFeatures,
  llamaMaxTokens,
  llamaRounds,
  llamaThreads,
  percent,
  timed,
} from "../lib/llama.js";
import { formatInt, median } from "../lib/load.js";

export const name = "parallel-sequences";
export const description =
  "total tokens/s of 4 concurrent requests on a model with 4 parallel sequences vs 1 sequence (served in turn)";
export const target: BenchTarget = {
  minRatio: 1.8,
  description: "4 parallel sequences ≥ 1.8 × one-at-a-time total tokens/s",
};

/** Four different prompts, each checked to run the full token budget (greedy, fixed weights). */
const PROMPTS = ["def add(a, b):", "hello world", "import x", "class value:"];
/** Per sequence. */
const CONTEXT_SIZE = 512;

interface Side {
  label: string;
  model: LoadedModel;
  tokensPerSecond: number[];
  /** Latency of each request, all rounds pooled. */
  latenciesMs: number[];
  cpuShare: number[];
  /** Requests that stopped before the budget (an end-of-generation token). */
  shortAnswers: number;
}

/** The same client code for both sides: all four requests at once, as concurrent callers would send them. */
async function fourRequests(model: LoadedModel, maxTokens: number, latenciesMs: number[]) {
  return Promise.all(
    PROMPTS.map(async (prompt): Promise<GenerationResult> => {
      const start = performance.now();
      const result = await model.generate({
        input: { kind: "completion", prompt },
        sampling: { maxTokens, temperature: 0 },
      });
      latenciesMs.push(performance.now() - start);
      return result;
    }),
  );
}

async function measure(side: Side, maxTokens: number): Promise<GenerationResult[]> {
  const latencies: number[] = [];
  const round = await timed(() => fourRequests(side.model, maxTokens, latencies));
  const tokens = round.value.reduce((sum, r) => sum + r.usage.completionTokens, 0);
  side.shortAnswers += round.value.filter((r) => r.usage.completionTokens < maxTokens).length;
  side.tokensPerSecond.push(tokens / round.seconds);
  side.latenciesMs.push(...latencies);
  side.cpuShare.push(round.cpuShare);
  return round.value;
}

function summarize(side: Side): BenchSide {
  return {
    label: side.label,
    value: median(side.tokensPerSecond),
    unit: "tokens/s",
    details: {
      rounds: side.tokensPerSecond.map(formatInt).join(" / "),
      "request p50": `${(median(side.latenciesMs) / 1000).toFixed(2)} s`,
      CPU: percent(median(side.cpuShare)),
    },
  };
}

export async function run(): Promise<BenchResult> {
  const rounds = llamaRounds();
  const threads = llamaThreads();
  const maxTokens = llamaMaxTokens();
  const { LlamaCppProvider } = await import("../../packages/server/src/engine/providers/llama-cpp/index.js");

  // 4-bit weights, as in the Q4_K_M models users run: on CPUs both go through ggml's repacked
  // kernels, whose matrix-matrix product (4 rows and up) is what batching buys.
  const file = await generateBenchModel("q4_0");
  const loaded: LoadedModel[] = [];
  try {
    const load = async (parallelSequences: number) => {
      const model = await new LlamaCppProvider({
        source: file.path,
        cacheDir: file.dir,
        threads,
        contextSize: CONTEXT_SIZE,
        parallelSequences,
        gpuLayers: 0,
      }).load();
      loaded.push(model);
      return model;
    };
    // Two loads of the same file (the weights are memory-mapped once by the OS), so that each side
    // keeps the KV cache layout its configuration really has; only one of them works at a time.
    const sides: [Side, Side] = [
      {
        label: "4 sequences",
        model: await load(PROMPTS.length),
        tokensPerSecond: [],
        latenciesMs: [],
        cpuShare: [],
        shortAnswers: 0,
      },
      {
        label: "1 sequence",
        model: await load(1),
        tokensPerSecond: [],
        latenciesMs: [],
        cpuShare: [],
        shortAnswers: 0,
      },
    ];

    // Warm-up: one round per side (page faults, every sequence's first prompt decode), not counted.
    const warm: GenerationResult[][] = [];
    for (const side of sides) warm.push(await fourRequests(side.model, maxTokens, []));
    const short = warm.flat().filter((r) => r.usage.completionTokens !== maxTokens);
    if (short.length > 0) {
      throw new Error(
        `${short.length} warm-up answers stopped before ${maxTokens} tokens (an end-of-generation token): ` +
          `the generator or the prompts changed`,
      );
    }
    // Batched decoding may round differently from one token at a time, and greedy picks on a
    // random model can then diverge: informational only.
    const sameText = warm[0]!.filter((r, i) => r.text === warm[1]![i]!.text).length;
    const cpuFeatures = await llamaCpuFeatures();

    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
      for (const side of order) await measure(side, maxTokens);
    }

    const subject = summarize(sides[0]);
    const baseline = summarize(sides[1]);
    const shortAnswers = sides[0].shortAnswers + sides[1].shortAnswers;
    return {
      sides: [subject, baseline],
      ratio: subject.value / baseline.value,
      ratioOf: "4 sequences / 1 sequence median total tokens/s",
      notes: [
        `${rounds} alternating rounds per side, each ${PROMPTS.length} different prompts × ${maxTokens} tokens sent at once ` +
          `(Promise.all on LoadedModel.generate), after one warm-up round per side; tokens/s = all generated tokens / ` +
          `wall time of the round`,
        `${file.summary}; ${threads} thread(s) per context (BENCH_LLAMA_THREADS), context ${CONTEXT_SIZE} per sequence, ` +
          `CPU only, greedy; both models loaded in this process, used in turn`,
        `1 sequence: the provider's pool queues the 4 requests and serves them one after another (same client code)`,
        `${sameText}/${PROMPTS.length} warm-up answers identical on both sides (batched decoding may round differently); ` +
          `${shortAnswers} measured answers ended before ${maxTokens} tokens`,
        `request p50 pools every request of a side; CPU = this process's CPU time / wall time`,
        `llama.cpp's CPU features here: ${cpuFeatures}. What a 4-row matrix product costs against a 1-row one bounds ` +
          `the ratio: ~2.6–3.2× with AVX-512 alone (two EPYC machines), ~2.9× with AMX (tiles of 16 rows): see bench/README.md "parallel-sequences"`,
      ],
    };
  } finally {
    await Promise.allSettled(loaded.map((model) => model.unload()));
    await file.remove();
  }
}
