/**
 * Model entries of the config file and the engine settings: one zod schema each, validated
 * with the rest of the configuration at start-up.
 */
import { z } from "zod";

const modelId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
    "letters, digits and . _ : / - (max 128), starting alphanumeric",
  );

const common = {
  id: modelId,
  name: z.string().min(1).optional(),
  /** Seed `type`: what the model is mainly for. */
  type: z.enum(["completion", "chat"]).optional(),
  /** Seed capability names shown by GET /models (code_completion, code_generation, refactoring…). */
  capabilities: z.array(z.string().min(1)).optional(),
  /** Load on first use; defaults to `engine.auto_load`. */
  auto_load: z.boolean().optional(),
  context_length: z.number().int().min(16).optional(),
};

export const llamaCppModelSchema = z.strictObject({
  ...common,
  provider: z.literal("llama-cpp"),
  /** A local GGUF path, an `hf:` URI or an https URL (downloaded into `<data_dir>/models`). */
  source: z.string().min(1),
  /** CPU threads; default = physical cores. */
  threads: z.number().int().min(1).optional(),
  gpu_layers: z.union([z.number().int().min(0), z.literal("auto")]).optional(),
  /** Concurrent requests served by one context as separate sequences. */
  parallel_sequences: z.number().int().min(1).max(64).optional(),
});

export const openAICompatibleModelSchema = z.strictObject({
  ...common,
  provider: z.literal("openai-compatible"),
  base_url: z.url(),
  api_key: z.string().optional(),
  /** Model name upstream; defaults to `id`. */
  model: z.string().min(1).optional(),
  fim: z.boolean().optional(),
  connect_timeout_ms: z.number().int().min(1).optional(),
  read_timeout_ms: z.number().int().min(1).optional(),
  max_retries: z.number().int().min(0).max(10).optional(),
});

export const anthropicModelSchema = z.strictObject({
  ...common,
  provider: z.literal("anthropic"),
  api_key: z.string().min(1),
  model: z.string().min(1).optional(),
  base_url: z.url().optional(),
  read_timeout_ms: z.number().int().min(1).optional(),
  max_retries: z.number().int().min(0).max(10).optional(),
});

export const modelEntrySchema = z.discriminatedUnion("provider", [
  llamaCppModelSchema,
  openAICompatibleModelSchema,
  anthropicModelSchema,
]);
export type ModelEntry = z.infer<typeof modelEntrySchema>;

/** The embedded default: a small code model fetched from the Hugging Face hub on first load. */
export const DEFAULT_MODELS: ModelEntry[] = [
  {
    id: "qwen2.5-coder-1.5b-instruct",
    name: "Qwen2.5 Coder 1.5B Instruct (Q4_K_M)",
    provider: "llama-cpp",
    source: "hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    type: "completion",
    capabilities: ["code_completion", "code_generation", "refactoring", "documentation"],
    context_length: 8192,
  },
];

export const engineSchema = z.strictObject({
  /** Memory that loaded models may take together; default: 75% of the machine's RAM. */
  memory_budget_mb: z.number().int().min(1).optional(),
  /** Load a model on its first request instead of answering MODEL_NOT_LOADED. */
  auto_load: z.boolean().default(true),
  /** Default and upper bound of a load's `timeout_seconds`. */
  load_timeout_seconds: z.number().int().min(1).max(86_400).default(900),
  /** Loads running at once; the rest wait in the priority queue. */
  max_concurrent_loads: z.number().int().min(1).max(16).default(1),
  /** How long an unload waits for in-flight requests before answering 409. */
  unload_wait_seconds: z.number().int().min(0).max(3600).default(30),
  /** Register models found at OPENAI_BASE_URL / OLLAMA_HOST / the Anthropic API at start-up. */
  discovery: z.boolean().default(true),
  discovery_timeout_ms: z.number().int().min(100).max(60_000).default(3_000),
});
export type EngineConfig = z.infer<typeof engineSchema>;
