import { expect } from "vitest";
import type { GenerationChunk, GenerationRequest } from "../../../src/engine/providers/provider.js";
import { ApiError, type ErrorCode } from "../../../src/errors.js";

/** Small budgets so every fault test finishes in well under a second (plus explicit Retry-After). */
export const FAST = {
  connectTimeoutMs: 1_000,
  readTimeoutMs: 300,
  maxRetries: 2,
  retryBackoff: { initialMs: 10, maxMs: 40 },
} as const;

export const chat = (content: string, extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  input: { kind: "chat", messages: [{ role: "user", content }] },
  ...extra,
});

export interface Collected {
  chunks: GenerationChunk[];
  text: string;
  last: GenerationChunk | undefined;
}

export async function collect(stream: AsyncIterable<GenerationChunk>): Promise<Collected> {
  const chunks: GenerationChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((c) => c.text).join(""), last: chunks.at(-1) };
}

/** Awaits the rejection and checks it is our typed error with `code`. */
export async function expectApiError(promise: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  expect(apiError.code, apiError.message).toBe(code);
  return apiError;
}

/** Rejects if `promise` does not settle within `ms` — for "observed within a second" checks. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** Elapsed milliseconds of `run`, with its settled value or error. */
export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await run();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}
