import { z } from "@hono/zod-openapi";

/** Sampling parameters of the seed's inference bodies, bounded so bad input is a 400, not a hang. */
export const inferenceParametersSchema = z
  .object({
    max_tokens: z.number().int().min(1).max(32_768).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    stop_sequences: z.array(z.string().min(1).max(64)).max(8).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    /** Samples to draw: 1 is the answer, the rest are alternatives. */
    n: z.number().int().min(1).max(5).optional(),
  })
  .openapi("InferenceParameters");
export type InferenceParameters = z.infer<typeof inferenceParametersSchema>;

export const inferenceMetadataSchema = z.object({
  model_used: z.string(),
  tokens_used: z.number().int(),
  processing_time_ms: z.number().int(),
});

export function samplingFrom(parameters: InferenceParameters | undefined, defaults: { maxTokens: number }) {
  return {
    maxTokens: parameters?.max_tokens ?? defaults.maxTokens,
    ...(parameters?.temperature === undefined ? {} : { temperature: parameters.temperature }),
    ...(parameters?.top_p === undefined ? {} : { topP: parameters.top_p }),
    ...(parameters?.stop_sequences === undefined ? {} : { stop: parameters.stop_sequences }),
    ...(parameters?.frequency_penalty === undefined
      ? {}
      : { frequencyPenalty: parameters.frequency_penalty }),
    ...(parameters?.presence_penalty === undefined ? {} : { presencePenalty: parameters.presence_penalty }),
  };
}
