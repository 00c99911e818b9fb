/**
 * The `optimization:` section of the config: which models produce candidates for /ai/*, with
 * what weight, which model judges rankings, and the A/B variants selected by the client's
 * `experiment_metadata.group`.
 */
import { z } from "zod";

const weightedModel = z.strictObject({
  /** A model id of the registry (config `models:` or discovered). */
  model: z.string().min(1),
  /** Share of each call's candidates this model produces, relative to the others. */
  weight: z.number().positive().max(1000).default(1),
});

const modelSet = z.array(weightedModel).min(1);

const variantSchema = z.strictObject({
  /** Optimizer models of this variant; default the base `models`. */
  models: modelSet.optional(),
  /** Prompt version of this variant; default the base `prompt_version`. */
  prompt_version: z.number().int().min(1).optional(),
});

export const optimizationConfigSchema = z.strictObject({
  /** Optimizer models with weights. Empty: the first model of the registry. */
  models: z.array(weightedModel).default([]),
  /** Model that ranks passing candidates (`/ai/rank`); without one, ranking is by speedup. */
  judge_model: z.string().min(1).optional(),
  /** Model for explanations, reviews, tests and workflows; default the first optimizer model. */
  assistant_model: z.string().min(1).optional(),
  prompt_version: z.number().int().min(1).default(1),
  /**
   * Upper bound of one model call. The codeflash client gives up after 300 s without a byte,
   * and a call sends nothing until it is done, so this must stay well below that.
   */
  call_timeout_seconds: z.number().int().min(1).max(280).default(240),
  /** Most candidates produced for one call, whatever `n_candidates` asks. */
  max_candidates: z.number().int().min(1).max(16).default(8),
  temperature: z.number().min(0).max(2).default(0.7),
  max_tokens: z.number().int().min(64).max(32_768).default(4096),
  /** `experiment_metadata.group` → variant; a group not listed here uses the base settings. */
  variants: z.record(z.string().min(1).max(64), variantSchema).default({}),
  /**
   * The few `cfapi` endpoints a local codeflash run needs (spec §11), on their own listener:
   * the client only knows `localhost:3001` (`CODEFLASH_CFAPI_SERVER=local`) and an unreachable
   * cfapi stops it. Off unless set.
   */
  cfapi: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(3001),
    })
    .optional(),
});

export type OptimizationConfig = z.infer<typeof optimizationConfigSchema>;
export type WeightedModel = z.infer<typeof weightedModel>;
