/**
 * Remote sources: a download from a local HTTP server (progress, cache, a kept partial file on
 * abort) and unreachable hosts failing fast instead of node-llama-cpp's ~12 minutes of retries.
 */
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LlamaCppProvider,
  type LlamaCppProviderOptions,
} from "../../../src/engine/providers/llama-cpp/index.js";
import type { LoadProgress } from "../../../src/engine/providers/provider.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";
import { CPU_ONE_THREAD, expectApiError, tempCacheDir } from "./fixtures.js";

let cache: Awaited<ReturnType<typeof tempCacheDir>>;

beforeAll(async () => {
  cache = await tempCacheDir();
});

afterAll(async () => {
  await cache?.remove();
  await removeGeneratedModels();
});

function remote(source: string, options: Partial<LlamaCppProviderOptions> = {}) {
  return new LlamaCppProvider({
    source,
    cacheDir: cache.path,
    contextSize: 256,
    ...CPU_ONE_THREAD,
    ...options,
  });
}

/** Serves one file with Range support; `delayMs` per 256 KiB slice makes a download take a while. */
async function fileServer(content: Buffer, delayMs = 0) {
  let requests = 0;
  const server = createServer(async (req, res) => {
    requests += 1;
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) : content.length - 1;
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": end - start + 1,
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${end}/${content.length}` } : {}),
    });
    if (req.method === "HEAD") return void res.end();
    for (let at = start; at <= end && !res.destroyed; at += 262_144) {
      res.write(content.subarray(at, Math.min(at + 262_144, end + 1)));
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("llama-cpp provider: downloads", () => {
  it("downloads an http(s) source with progress, then finds it in the cache without the network", async () => {
    const content = await readFile(await tinyLlamaModelPath());
    const server = await fileServer(content);
    const provider = remote(`${server.url}/models/tiny.gguf`);
    expect(await provider.estimateSizeBytes()).toBeUndefined();

    const progress: LoadProgress[] = [];
    const model = await provider.load({ onProgress: (p) => progress.push(p) });
    await model.unload();
    const downloads = progress.filter((p) => p.phase === "download");
    expect(downloads.length).toBeGreaterThan(0);
    expect(downloads.at(-1)).toMatchObject({ fraction: 1, downloadedBytes: content.length });
    expect(progress.at(-1)).toEqual({ phase: "load", fraction: 1 });
    // Download first, then load: phases never interleave.
    expect(progress.findIndex((p) => p.phase === "load")).toBeGreaterThan(
      progress.lastIndexOf(downloads.at(-1)!),
    );

    await server.close();
    expect(await provider.estimateSizeBytes()).toBe(content.length);
    const again = await provider.load();
    await again.unload();
  });

  it("keeps the partial file when a download is aborted, and finishes it on the next load", async () => {
    // ~21 MB, served slowly. ipull fetches 5 MiB chunks over 3 connections and writes whole
    // chunks, so past 16 MB at least one chunk is on disk when the abort lands.
    const content = await readFile(
      await tinyLlamaModelPath({
        layers: 4,
        dims: 256,
        heads: 4,
        vocab: 4096,
        ffn: 704,
        contextLength: 2048,
      }),
    );
    const server = await fileServer(content, 5);
    const provider = remote(`${server.url}/big/partial.gguf`);
    const controller = new AbortController();
    const aborted = provider.load({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "download" && (p.downloadedBytes ?? 0) > 16e6) controller.abort(new Error("stop"));
      },
    });
    await expect(aborted).rejects.toThrow("stop");
    expect(await readdir(cache.path)).toContain("partial.gguf.ipull");

    const model = await provider.load();
    expect(model.capabilities.contextLength).toBe(256);
    await model.unload();
    expect(await readdir(cache.path)).toContain("partial.gguf");
    await server.close();
  });
});

describe("llama-cpp provider: unreachable sources", () => {
  /** A host that accepts connections and never answers: what a captive or dead network looks like. */
  async function silentServer() {
    const sockets = new Set<Socket>();
    const server = createServer(() => undefined);
    server.on("connection", (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      close: () => {
        for (const socket of sockets) socket.destroy();
        return closeServer(server);
      },
    };
  }

  it("fails an hf: source within 5 s when Hugging Face does not answer", async () => {
    const silent = await silentServer();
    const started = performance.now();
    const error = await expectApiError(
      remote("hf:someone/some-model/model.Q4_K_M.gguf", { huggingFaceEndpoint: silent.url }).load(),
    );
    const elapsed = performance.now() - started;
    await silent.close();
    expect(elapsed).toBeLessThan(5_000);
    expect(error).toMatchObject({ code: "UPSTREAM_ERROR", details: { reason: "model_source_unreachable" } });
    expect(error.message).toMatch(/unreachable \(no answer in time\)/);
  });

  it("fails at once when the host refuses the connection", async () => {
    const server = await fileServer(Buffer.alloc(0));
    const url = `${server.url}/gone.gguf`;
    await server.close();
    const started = performance.now();
    const error = await expectApiError(remote(url).load());
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});
