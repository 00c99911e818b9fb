/**
 * The process-wide llama.cpp runtime: one `Llama` instance (loading the native binaries and
 * owning the thread budget is per instance, so one per model would oversubscribe the CPU), plus
 * a lock that runs model loads one at a time so each load's memory measurement and llama.cpp
 * error log belong to that load alone.
 */
import { availableParallelism } from "node:os";
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";
import { ApiError, errorMessage } from "../../../errors.js";

let shared: Promise<Llama> | undefined;
/** Error lines llama.cpp logged during the current exclusive load (it only logs the reason). */
let capturedErrors: string[] | undefined;
let loadChain: Promise<unknown> = Promise.resolve();

/** Logical cores: the ceiling for every thread setting. */
export function logicalCores(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Physical cores, approximated: SMT machines expose two logical cores per physical one, and
 * llama.cpp's matrix work gains nothing from the second hyper-thread (it loses to contention).
 */
export function defaultThreads(): number {
  const logical = logicalCores();
  return logical > 1 ? Math.floor(logical / 2) : 1;
}

/** Clamps a configured thread count into 1..logical cores. */
export function resolveThreads(threads: number | undefined): number {
  return Math.min(logicalCores(), Math.max(1, Math.floor(threads ?? defaultThreads())));
}

function logLlama(level: LlamaLogLevel, message: string): void {
  if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) capturedErrors?.push(message.trim());
  // Same destination and prefix as node-llama-cpp's default logger.
  console.warn(`[node-llama-cpp] ${message.trimEnd()}`);
}

/**
 * The shared instance, created on first use. `gpu` only matters for that first call: later
 * models asking for GPU layers on a CPU-only instance run on the CPU (node-llama-cpp forces
 * `gpuLayers` to 0 then). The thread ceiling is the machine's logical cores; each context asks
 * for its own share (`threads`), so concurrent models never exceed the machine together.
 */
export function sharedLlama(gpu: boolean): Promise<Llama> {
  shared ??= getLlama({
    // Prebuilt binaries only: building llama.cpp from source at request time takes minutes.
    build: "never",
    gpu: gpu ? "auto" : false,
    maxThreads: logicalCores(),
    logLevel: LlamaLogLevel.warn,
    logger: logLlama,
  }).catch((err: unknown) => {
    shared = undefined; // a later load may retry (e.g. after the binaries were installed)
    throw new ApiError("INTERNAL_ERROR", `the llama.cpp runtime failed to start: ${errorMessage(err)}`, {
      cause: err,
    });
  });
  return shared;
}

/** llama.cpp's last line about a failed load; its log arrives through a native queue, after the rejection. */
const LAST_LOAD_ERROR_LINE = /failed to load model/i;
const LOG_SETTLE_MS = 250;

/**
 * Runs `load` alone among loads of this process. `llamaErrors()` resolves to what llama.cpp logged
 * as errors meanwhile — its native loader reports only "Failed to load model" to JavaScript, the
 * reason goes to the log — waiting briefly for the log to catch up with the failure.
 */
export function exclusiveLoad<T>(load: (llamaErrors: () => Promise<string[]>) => Promise<T>): Promise<T> {
  const run = loadChain.then(async () => {
    const errors: string[] = [];
    capturedErrors = errors;
    const settledErrors = async () => {
      const deadline = Date.now() + LOG_SETTLE_MS;
      while (!errors.some((line) => LAST_LOAD_ERROR_LINE.test(line)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return errors.slice();
    };
    try {
      return await load(settledErrors);
    } finally {
      capturedErrors = undefined;
    }
  });
  loadChain = run.catch(() => undefined);
  return run;
}
