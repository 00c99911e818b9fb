/**
 * Loading from bad files and unreachable sources ends in typed errors (never a crashed
 * process), and unloading gives the memory back.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppProvider } from "../../../src/engine/providers/llama-cpp/index.js";
import { gguf } from "../../helpers/gguf/gguf-writer.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";
import { CPU_ONE_THREAD, expectApiError, tempCacheDir, tinyProvider } from "./fixtures.js";

let cache: Awaited<ReturnType<typeof tempCacheDir>>;

beforeAll(async () => {
  cache = await tempCacheDir();
});

afterAll(async () => {
  await cache?.remove();
  await removeGeneratedModels();
});

function providerFor(source: string) {
  return new LlamaCppProvider({ source, cacheDir: cache.path, contextSize: 256, ...CPU_ONE_THREAD });
}

async function writeBadFile(name: string, content: Buffer): Promise<string> {
  const path = join(cache.path, name);
  await writeFile(path, content);
  return path;
}

describe("llama-cpp provider: bad model files", () => {
  it("a missing file", async () => {
    const error = await expectApiError(providerFor(join(cache.path, "nope.gguf")).load());
    expect(error).toMatchObject({ code: "INVALID_REQUEST", details: { reason: "model_file_missing" } });
    expect(error.message).toMatch(/does not exist/);
  });

  it("a directory instead of a file", async () => {
    const dir = join(cache.path, "dir.gguf");
    await mkdir(dir, { recursive: true });
    const error = await expectApiError(providerFor(dir).load());
    expect(error.details.reason).toBe("model_file_corrupt");
  });

  it("a file that is not GGUF at all", async () => {
    const path = await writeBadFile("text.gguf", Buffer.from("this is not a model\n".repeat(50)));
    const error = await expectApiError(providerFor(path).load());
    expect(error).toMatchObject({ code: "INVALID_REQUEST", details: { reason: "model_file_corrupt" } });
    expect(error.message).toMatch(/not a GGUF file/);
  });

  it("GGUF magic followed by garbage", async () => {
    const path = await writeBadFile(
      "garbage.gguf",
      Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(4096, 0xab)]),
    );
    const error = await expectApiError(providerFor(path).load());
    expect(error.details.reason).toBe("model_file_corrupt");
  });

  it("a file cut off in the tensor data (an interrupted download)", async () => {
    const good = await readFile(await tinyLlamaModelPath());
    const path = await writeBadFile("cut-data.gguf", good.subarray(0, Math.floor(good.length * 0.9)));
    const error = await expectApiError(providerFor(path).load());
    expect(error).toMatchObject({ code: "INVALID_REQUEST", details: { reason: "model_file_truncated" } });
    expect(error.message).toMatch(/truncated/);
  });

  it("a file cut off in the header", async () => {
    const good = await readFile(await tinyLlamaModelPath());
    const path = await writeBadFile("cut-header.gguf", good.subarray(0, 1000));
    const error = await expectApiError(providerFor(path).load());
    expect(["model_file_truncated", "model_file_corrupt"]).toContain(error.details.reason);
  });

  it("a well-formed file whose tensors do not match its metadata, with llama.cpp's reason", async () => {
    const path = await tinyLlamaModelPath({
      metadata: { "llama.embedding_length": gguf.u32(32), "llama.rope.dimension_count": gguf.u32(8) },
    });
    const error = await expectApiError(providerFor(path).load());
    expect(error.details.reason).toBe("model_file_corrupt");
    expect(error.message).toMatch(/tensor 'token_embd\.weight' has wrong shape/);
  });

  it("keeps the process healthy: a good model loads after all of that", async () => {
    const model = await (await tinyProvider(cache.path)).load();
    const result = await model.generate({
      input: { kind: "completion", prompt: "ok" },
      sampling: { maxTokens: 4 },
    });
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    await model.unload();
  });
});

/** Resident memory outside the JS heap: what llama.cpp holds, without garbage-collection noise. */
function nativeMemory(): number {
  const { rss, heapTotal, external } = process.memoryUsage();
  return rss - heapTotal - external;
}

describe("llama-cpp provider: unload", () => {
  it("gives back the memory the load took", async () => {
    // ~21 MB of f32 weights plus a 2 × 2048-token KV cache: well above RSS noise.
    const provider = await tinyProvider(
      cache.path,
      { contextSize: 2048, parallelSequences: 2 },
      { layers: 4, dims: 256, heads: 4, vocab: 4096, ffn: 704, contextLength: 2048 },
    );
    const fileBytes = (await provider.estimateSizeBytes()) ?? 0;
    const model = await provider.load();
    await model.generate({ input: { kind: "completion", prompt: "warm up" }, sampling: { maxTokens: 8 } });
    const loaded = nativeMemory();
    await model.unload();
    const freed = loaded - nativeMemory();

    expect(fileBytes).toBeGreaterThan(20e6);
    // Weights plus KV cache (2 × 2048 tokens × 4 layers × 2 × 256 × f16 ≈ 16.8 MB) and buffers.
    expect(model.memoryBytes).toBeGreaterThan(fileBytes + 10e6);
    // The mapped weights always go back to the OS; the KV cache is malloc'd, and glibc may keep
    // it in the process for the next allocation, so only the weights are certain.
    expect(freed).toBeGreaterThan(fileBytes * 0.9);
    await expect(model.generate({ input: { kind: "completion", prompt: "x" } })).rejects.toMatchObject({
      code: "MODEL_NOT_LOADED",
    });
  });
});
