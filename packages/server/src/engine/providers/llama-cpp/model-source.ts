/**
 * Where a model's GGUF file comes from: a local path, or an `hf:` URI / http(s) URL downloaded
 * into the cache directory by node-llama-cpp (resumable: an interrupted download keeps its
 * partial file and continues on the next load).
 */
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import type { LoadProgress } from "../provider.js";
import { downloadFailed, sourceUnreachable } from "./load-errors.js";

export interface ModelSourceOptions {
  source: string;
  cacheDir: string;
  /** Overrides https://huggingface.co/ (node-llama-cpp also honours MODEL_ENDPOINT / HF_ENDPOINT). */
  huggingFaceEndpoint?: string;
  downloadCheckTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 4_000;

export function isRemoteSource(source: string): boolean {
  return /^(hf:|https?:\/\/)/i.test(source);
}

/** The Hugging Face host node-llama-cpp will download from (same precedence as its own resolution). */
function huggingFaceEndpoint(options: ModelSourceOptions): string {
  for (const candidate of [
    options.huggingFaceEndpoint,
    process.env.MODEL_ENDPOINT,
    process.env.HF_ENDPOINT,
  ]) {
    if (candidate !== undefined && URL.canParse(candidate)) return candidate;
  }
  return "https://huggingface.co/";
}

/**
 * What node-llama-cpp should look for and download to. It derives file names from `hf:` URIs
 * (and Hugging Face URLs) itself, but finds a plain URL's earlier download only when told the
 * name — without it every load of a URL source would need the network.
 */
function resolveOptions(options: ModelSourceOptions) {
  const isUrl = /^https?:\/\//i.test(options.source);
  const host = isUrl ? new URL(options.source).hostname : "";
  const huggingFace = /(^|\.)(huggingface\.co|hf\.co)$/i.test(host);
  const fileName = isUrl && !huggingFace ? basename(new URL(options.source).pathname) : "";
  return {
    directory: options.cacheDir,
    cli: false,
    ...(fileName === "" ? {} : { fileName: decodeURIComponent(fileName) }),
    ...(options.huggingFaceEndpoint === undefined
      ? {}
      : { endpoints: { huggingFace: options.huggingFaceEndpoint } }),
  };
}

/** The local file of an already downloaded remote source, without touching the network. */
export async function cachedModelFile(options: ModelSourceOptions): Promise<string | undefined> {
  try {
    return await resolveModelFile(options.source, { ...resolveOptions(options), download: false });
  } catch {
    return undefined;
  }
}

/**
 * node-llama-cpp's downloader retries for ~12 minutes when the host is unreachable; one short
 * request first turns "offline" into an error within the timeout. Any HTTP answer counts as
 * reachable (a 404 for the file is reported by the downloader with its own message).
 */
async function assertReachable(options: ModelSourceOptions, signal: AbortSignal | undefined): Promise<void> {
  const target = options.source.toLowerCase().startsWith("hf:")
    ? huggingFaceEndpoint(options)
    : options.source;
  const origin = new URL(target).origin;
  const timeout = AbortSignal.timeout(options.downloadCheckTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
  try {
    const response = await fetch(origin, {
      method: "HEAD",
      redirect: "manual",
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    await response.body?.cancel();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw sourceUnreachable(options.source, new URL(origin).host, err);
  }
}

/** Resolves the source to a local GGUF path, downloading it first when needed. */
export async function resolveModelSource(
  options: ModelSourceOptions,
  load: { signal?: AbortSignal; onProgress?: (progress: LoadProgress) => void } = {},
): Promise<string> {
  // Local paths are taken as given (relative to the working directory), never looked up in the cache.
  if (!isRemoteSource(options.source)) return resolve(options.source);

  const cached = await cachedModelFile(options);
  if (cached !== undefined) return cached;

  await assertReachable(options, load.signal);
  try {
    const path = await resolveModelFile(options.source, {
      ...resolveOptions(options),
      // Keep the partial file on cancel so the next load resumes instead of starting over.
      deleteTempFileOnCancel: false,
      signal: load.signal,
      onProgress: ({ totalSize, downloadedSize }) =>
        load.onProgress?.({
          phase: "download",
          fraction: totalSize > 0 ? Math.min(1, downloadedSize / totalSize) : undefined,
          downloadedBytes: downloadedSize,
          totalBytes: totalSize > 0 ? totalSize : undefined,
        }),
    });
    load.onProgress?.({ phase: "download", fraction: 1, downloadedBytes: (await stat(path)).size });
    return path;
  } catch (err) {
    if (load.signal?.aborted) throw load.signal.reason;
    throw downloadFailed(options.source, err);
  }
}
