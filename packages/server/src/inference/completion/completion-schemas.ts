import { z } from "@hono/zod-openapi";
import { inferenceMetadataSchema, inferenceParametersSchema } from "../common-schemas.js";

export const completionRequestSchema = z
  .object({
    model_id: z.string().min(1).max(128),
    context: z.object({
      language: z.string().min(1).max(32),
      code: z.string().max(400_000),
      /** Character offset into `code` where the completion is inserted. */
      cursor_position: z.number().int().min(0),
      file_path: z.string().max(1024).optional(),
      project_context: z
        .object({
          dependencies: z.array(z.string().max(200)).max(200).optional(),
          framework: z.string().max(200).optional(),
        })
        .optional(),
    }),
    parameters: inferenceParametersSchema.optional(),
    options: z
      .object({
        stream: z.boolean().default(false),
        async: z.boolean().default(false),
        cache: z.boolean().optional(),
      })
      .optional(),
  })
  .openapi("CompletionRequest");
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const completionResponseSchema = z
  .object({
    completion: z.object({
      text: z.string(),
      confidence: z.number().nullable(),
      metadata: inferenceMetadataSchema.extend({ cache_hit: z.boolean() }),
    }),
    suggestions: z.array(
      z.object({ text: z.string(), confidence: z.number().nullable(), reasoning: z.string() }),
    ),
  })
  .openapi("CompletionResponse");
export type CompletionResponse = z.infer<typeof completionResponseSchema>;
