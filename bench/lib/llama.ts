/**
 * Shared by the llama.cpp benchmarks: a generated GGUF model with real compute in a temp dir
 * (removed however the run ends), the thread knob, and the timing of one measured round.
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envInt } from "./benchmark.js";
import type { GgufTensorType } from "../../packages/server/test/helpers/gguf/gguf-writer.js";
import { ownCpuSeconds } from "./cpu.js";

/** llama.cpp threads per context on both sides (`BENCH_LLAMA_THREADS`, default 1). */
export const llamaThreads = (): number => envInt("BENCH_LLAMA_THREADS", 1);

/** Measured rounds per side (`BENCH_ROUNDS`; 5 by default here: one round is only ~2 s). */
export const llamaRounds = (): number => envInt("BENCH_ROUNDS", 5);

/** Tokens generated per request (`BENCH_MAX_TOKENS`, default 128). */
export const llamaMaxTokens = (): number => envInt("BENCH_MAX_TOKENS", 128);

export interface BenchModel {
  /** The GGUF file. */
  path: string;
  /** Its temp dir, also usable as the provider's `cacheDir` (nothing is downloaded). */
  dir: string;
  /** What was generated, for the notes. */
  summary: string;
  /** Removes the temp dir; idempotent. */
  remove(): Promise<void>;
}

/** Weight type of the generated model: `BENCH_TENSOR_TYPE` (f32, f16, q4_0), else the benchmark's own. */
const tensorType = (fallback: GgufTensorType): GgufTensorType => {
  const chosen = process.env.BENCH_TENSOR_TYPE;
  if (chosen === undefined || chosen === "") return fallback;
  if (chosen === "f32" || chosen === "f16" || chosen === "q4_0") return chosen;
  throw new Error(`BENCH_TENSOR_TYPE must be f32, f16 or q4_0, not ${JSON.stringify(chosen)}`);
};

/**
 * Writes `BENCH_MODEL` (8 layers × 512 dims, 8192-token vocabulary, f16 unless the benchmark or
 * `BENCH_TENSOR_TYPE` says otherwise: ~68 MB, ~3 ms of compute per token on one core) into a fresh
 * temp dir. The generator is imported lazily so that `npm run bench -- middleware` does not load it.
 */
export async function generateBenchModel(defaultTensorType: GgufTensorType = "f16"): Promise<BenchModel> {
  const { BENCH_MODEL, generateTinyLlamaModel } =
    await import("../../packages/server/test/helpers/gguf/tiny-llama-model.js");
  const dir = await mkdtemp(join(tmpdir(), "aiservice-bench-gguf-"));
  // A timed-out benchmark ends in process.exit(), which skips `finally`: remove the ~68 MB anyway.
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.on("exit", onExit);
  const remove = async () => {
    process.off("exit", onExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const path = join(dir, "bench-model.gguf");
    const o = { ...BENCH_MODEL, tensorType: tensorType(defaultTensorType) };
    await generateTinyLlamaModel(path, o);
    const summary =
      `generated llama GGUF: ${o.layers} layers × ${o.dims} dims, ffn ${o.ffn}, vocab ${o.vocab}, ` +
      `${o.tensorType}, random weights (fixed seed)`;
    return { path, dir, summary, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * The vector and matrix instruction sets llama.cpp's CPU backend uses on this machine (from its
 * system info), for the notes: they decide which matrix kernels a decode runs, and so how much
 * batching gains here.
 */
export async function llamaCpuFeatures(): Promise<string> {
  const { sharedLlama } =
    await import("../../packages/server/src/engine/providers/llama-cpp/llama-runtime.js");
  const { systemInfo } = await sharedLlama(false);
  const enabled = [...systemInfo.matchAll(/(\w+) = 1/g)].map((match) => match[1] ?? "");
  const relevant = enabled.filter((feature) => /^(AVX2|AVX512\w*|AMX\w*)$/.test(feature));
  return relevant.length === 0 ? "none of AVX2, AVX-512, AMX" : relevant.join(", ");
}

export interface Timed<T> {
  value: T;
  seconds: number;
  /** CPU seconds of this whole process (JS thread + llama.cpp's threads) per wall second. */
  cpuShare: number;
}

/** Runs `work` and reports its wall time and the CPU the process used meanwhile. */
export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const cpuStart = ownCpuSeconds();
  const start = performance.now();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  return { value, seconds, cpuShare: (ownCpuSeconds() - cpuStart) / seconds };
}

export const percent = (share: number): string => `${Math.round(share * 100)}%`;
