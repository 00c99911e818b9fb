/**
 * Typed load failures of the llama-cpp provider. A broken model file is a problem of the model's
 * configuration, not of the server: INVALID_REQUEST with status 422 and a `reason` callers can
 * act on; an unreachable download host is an upstream failure.
 */
import { ApiError } from "../../../errors.js";

export type ModelFileProblem = "missing" | "corrupt" | "truncated";

export function modelFileError(
  problem: ModelFileProblem,
  path: string,
  message: string,
  cause?: unknown,
): ApiError {
  return new ApiError("INVALID_REQUEST", message, {
    status: 422,
    details: { reason: `model_file_${problem}`, path },
    cause,
  });
}

export function sourceUnreachable(source: string, host: string, cause: unknown): ApiError {
  const why = cause instanceof Error ? describeFetchFailure(cause) : String(cause);
  return new ApiError(
    "UPSTREAM_ERROR",
    `cannot download model '${source}': ${host} is unreachable (${why}); check the network or use a local GGUF path`,
    { details: { reason: "model_source_unreachable", source, host }, cause },
  );
}

export function downloadFailed(source: string, cause: unknown): ApiError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ApiError("UPSTREAM_ERROR", `downloading model '${source}' failed: ${why}`, {
    details: { reason: "model_download_failed", source },
    cause,
  });
}

export function insufficientMemory(path: string, cause: unknown): ApiError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ApiError("INSUFFICIENT_MEMORY", `not enough memory to load '${path}': ${why}`, {
    details: { path },
    cause,
  });
}

/** fetch() hides the real reason (ENOTFOUND, ECONNREFUSED, timeout) in `cause`. */
function describeFetchFailure(err: Error): string {
  if (err.name === "TimeoutError") return "no answer in time";
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined ? cause.message : `${code}: ${cause.message}`;
  }
  return err.message;
}
