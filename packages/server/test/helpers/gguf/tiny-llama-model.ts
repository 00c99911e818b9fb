/**
 * Generates real llama-architecture GGUF models with random weights, so engine tests run the real
 * node-llama-cpp load / inference / batching / unload paths without downloading anything. The
 * output is gibberish by construction: tests assert structure, never content.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GgufTensor, type GgufTensorType, type GgufValue, gguf, writeGguf } from "./gguf-writer.js";
import { buildTinyVocabulary } from "./tiny-vocabulary.js";

export interface TinyLlamaModelOptions {
  layers?: number;
  /** Embedding width (n_embd); must be a multiple of `heads`. */
  dims?: number;
  heads?: number;
  /** Key/value heads (grouped-query attention); defaults to `heads`. */
  kvHeads?: number;
  /** Minimum vocabulary size; the built-in vocabulary (~440 tokens) is padded up to it. */
  vocab?: number;
  /** Feed-forward width (n_ff). */
  ffn?: number;
  contextLength?: number;
  withFim?: boolean;
  withChatTemplate?: boolean;
  /** Weight matrices' type; norms stay f32 as in real conversions. */
  tensorType?: GgufTensorType;
  seed?: number;
  /** Metadata written over the generated keys, e.g. to build a deliberately inconsistent model. */
  metadata?: Record<string, GgufValue>;
}

/** Defaults: loads and generates in milliseconds. */
export const TINY_MODEL: Required<TinyLlamaModelOptions> = {
  layers: 2,
  dims: 64,
  heads: 4,
  kvHeads: 4,
  vocab: 0,
  ffn: 128,
  contextLength: 1024,
  withFim: true,
  withChatTemplate: true,
  tensorType: "f32",
  seed: 42,
  metadata: {},
};

/** "Real compute" size for benchmarks: ~30 M parameters, ~60 MB in f16. */
export const BENCH_MODEL: TinyLlamaModelOptions = {
  layers: 8,
  dims: 512,
  heads: 8,
  kvHeads: 8,
  vocab: 8192,
  ffn: 1408,
  contextLength: 4096,
  tensorType: "f16",
};

/** ChatML, the simplest widely used template; node-llama-cpp renders it from the metadata. */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** mulberry32: tiny, fast, seedable; quality is irrelevant for random weights. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function generateTinyLlamaModel(
  path: string,
  options: TinyLlamaModelOptions = {},
): Promise<void> {
  const o = { ...TINY_MODEL, ...options };
  if (o.dims % o.heads !== 0 || o.heads % o.kvHeads !== 0) {
    throw new Error(`dims (${o.dims}) must divide by heads (${o.heads}) and heads by kvHeads (${o.kvHeads})`);
  }
  const vocab = buildTinyVocabulary({ minSize: o.vocab, withFim: o.withFim });
  const nVocab = vocab.tokens.length;
  const headDim = o.dims / o.heads;
  const kvDims = headDim * o.kvHeads;
  const random = randomSource(o.seed);

  // Uniform in ±sqrt(3/fanIn): unit-variance activations, so logits are neither flat nor one-hot.
  const matrix = (name: string, inner: number, outer: number, scale = Math.sqrt(3 / inner)): GgufTensor => {
    const data = new Float32Array(inner * outer);
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return { name, dims: [inner, outer], type: o.tensorType, data };
  };
  const norm = (name: string): GgufTensor => ({
    name,
    dims: [o.dims],
    type: "f32",
    data: new Float32Array(o.dims).fill(1),
  });

  // Shapes as llama.cpp's llama model loader expects them (ggml order: input dim first).
  const tensors: GgufTensor[] = [matrix("token_embd.weight", o.dims, nVocab, 1), norm("output_norm.weight")];
  tensors.push(matrix("output.weight", o.dims, nVocab));
  for (let layer = 0; layer < o.layers; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      norm(`${blk}.attn_norm.weight`),
      matrix(`${blk}.attn_q.weight`, o.dims, o.dims),
      matrix(`${blk}.attn_k.weight`, o.dims, kvDims),
      matrix(`${blk}.attn_v.weight`, o.dims, kvDims),
      matrix(`${blk}.attn_output.weight`, o.dims, o.dims),
      norm(`${blk}.ffn_norm.weight`),
      matrix(`${blk}.ffn_gate.weight`, o.dims, o.ffn),
      matrix(`${blk}.ffn_down.weight`, o.ffn, o.dims),
      matrix(`${blk}.ffn_up.weight`, o.dims, o.ffn),
    );
  }

  const metadata: Record<string, GgufValue> = {
    "general.architecture": gguf.str("llama"),
    "general.name": gguf.str(`tiny-llama-${o.layers}x${o.dims}`),
    "general.file_type": gguf.u32(FILE_TYPE[o.tensorType]),
    "llama.vocab_size": gguf.u32(nVocab),
    "llama.context_length": gguf.u32(o.contextLength),
    "llama.embedding_length": gguf.u32(o.dims),
    "llama.block_count": gguf.u32(o.layers),
    "llama.feed_forward_length": gguf.u32(o.ffn),
    "llama.attention.head_count": gguf.u32(o.heads),
    "llama.attention.head_count_kv": gguf.u32(o.kvHeads),
    "llama.rope.dimension_count": gguf.u32(headDim),
    "llama.rope.freq_base": gguf.f32(10000),
    "llama.attention.layer_norm_rms_epsilon": gguf.f32(1e-5),
    "tokenizer.ggml.model": gguf.str("llama"),
    "tokenizer.ggml.tokens": gguf.strings(vocab.tokens),
    "tokenizer.ggml.scores": gguf.f32s(vocab.scores),
    "tokenizer.ggml.token_type": gguf.i32s(vocab.types),
    "tokenizer.ggml.unknown_token_id": gguf.u32(vocab.ids.unk),
    "tokenizer.ggml.bos_token_id": gguf.u32(vocab.ids.bos),
    "tokenizer.ggml.eos_token_id": gguf.u32(vocab.ids.eos),
    "tokenizer.ggml.add_bos_token": gguf.bool(true),
    "tokenizer.ggml.add_eos_token": gguf.bool(false),
  };
  if (vocab.ids.fim !== undefined) {
    // Current llama.cpp keys (the older prefix_/suffix_/middle_token_id spellings are deprecated).
    metadata["tokenizer.ggml.fim_pre_token_id"] = gguf.u32(vocab.ids.fim.pre);
    metadata["tokenizer.ggml.fim_suf_token_id"] = gguf.u32(vocab.ids.fim.suf);
    metadata["tokenizer.ggml.fim_mid_token_id"] = gguf.u32(vocab.ids.fim.mid);
    metadata["tokenizer.ggml.eot_token_id"] = gguf.u32(vocab.ids.fim.eot);
  }
  if (o.withChatTemplate) metadata["tokenizer.chat_template"] = gguf.str(TINY_CHAT_TEMPLATE);

  await writeGguf(path, { metadata: { ...metadata, ...o.metadata }, tensors });
}

/** llama.cpp's LLAMA_FTYPE_* for a model whose matrices all have one type. */
const FILE_TYPE: Record<GgufTensorType, number> = { f32: 0, f16: 1, q4_0: 2 };

let cacheDir: Promise<string> | undefined;
const cache = new Map<string, Promise<string>>();

/**
 * A generated model for these options, written once per test process into a temp dir
 * (remove it with `removeGeneratedModels` in `afterAll`).
 */
export function tinyLlamaModelPath(options: TinyLlamaModelOptions = {}): Promise<string> {
  const key = JSON.stringify({ ...TINY_MODEL, ...options });
  let path = cache.get(key);
  if (path === undefined) {
    cacheDir ??= mkdtemp(join(tmpdir(), "aiservice-gguf-"));
    const name = `model-${cache.size}.gguf`;
    path = cacheDir.then(async (dir) => {
      const file = join(dir, name);
      await generateTinyLlamaModel(file, options);
      return file;
    });
    cache.set(key, path);
  }
  return path;
}

export async function removeGeneratedModels(): Promise<void> {
  const dir = cacheDir;
  cacheDir = undefined;
  cache.clear();
  if (dir !== undefined) await rm(await dir, { recursive: true, force: true });
}
