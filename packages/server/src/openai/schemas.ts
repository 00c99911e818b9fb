/**
 * Request and response bodies of the OpenAI-compatible routes, as OpenAI defines them.
 *
 * Requests are tolerant: OpenAI clients send many fields this server has no use for, so unknown
 * fields are kept (`looseObject`: a passthrough forwards them upstream) and never rejected; the
 * fields the translation reads are validated. Nothing here transforms a value, so a validated
 * body is still the client's body.
 */
import { z } from "@hono/zod-openapi";

const stop = z
  .union([z.string(), z.array(z.string()).max(16)], {
    error: "stop must be a string or an array of at most 16 strings",
  })
  .nullish();

/** Fields both generation endpoints share. */
const generationFields = {
  model: z.string().min(1).openapi({ example: "qwen2.5-coder-1.5b-instruct" }),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop,
  n: z
    .number()
    .int()
    .refine((n) => n === 1, "this server generates one choice per request: n must be 1")
    .nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().nullish(),
};

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});
export type OpenAIChatMessage = z.infer<typeof chatMessageSchema>;

export const chatCompletionRequestSchema = z
  .looseObject({
    ...generationFields,
    messages: z.array(chatMessageSchema).min(1),
    /** Newer name of `max_tokens`; wins when both are sent. */
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  })
  // As vLLM does: alternatives without `logprobs: true` would otherwise be silently dropped.
  .refine((body) => (body.top_logprobs ?? 0) === 0 || body.logprobs === true, {
    message: "top_logprobs needs logprobs: true",
    path: ["top_logprobs"],
  })
  .openapi("OpenAIChatCompletionRequest");
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const completionRequestSchema = z
  .looseObject({
    ...generationFields,
    prompt: z.union([z.string(), z.array(z.string()).length(1)], {
      error: "prompt must be a string or an array of exactly one string",
    }),
    /** Text after the insertion point: with it the request is fill-in-the-middle. */
    suffix: z.string().nullish(),
    /** Legacy API: how many alternatives per token; the sampled token's logprob is always given. */
    logprobs: z.number().int().min(0).max(5).nullish(),
  })
  .openapi("OpenAICompletionRequest");
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

// Responses: documentation of what the routes answer (OpenAI's shapes); not validated at runtime.

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

const finishReason = z.enum(["stop", "length"]).nullable();

const chatTokenLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
  top_logprobs: z.array(
    z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullable() }),
  ),
});

export const chatCompletionSchema = z
  .object({
    id: z.string().openapi({ example: "chatcmpl-3fQk1xV2m9" }),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal("assistant"),
          content: z.string().nullable(),
          refusal: z.string().nullable(),
        }),
        logprobs: z.object({ content: z.array(chatTokenLogprob).nullable(), refusal: z.null() }).nullable(),
        finish_reason: finishReason,
      }),
    ),
    usage: usageSchema,
  })
  .openapi("OpenAIChatCompletion");

export const completionSchema = z
  .object({
    id: z.string().openapi({ example: "cmpl-3fQk1xV2m9" }),
    object: z.literal("text_completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        text: z.string(),
        logprobs: z
          .object({
            tokens: z.array(z.string()),
            token_logprobs: z.array(z.number()),
            top_logprobs: z.array(z.record(z.string(), z.number())).nullable(),
            text_offset: z.array(z.number().int()),
          })
          .nullable(),
        finish_reason: finishReason,
      }),
    ),
    usage: usageSchema,
  })
  .openapi("OpenAICompletion");

export const modelObjectSchema = z
  .object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() })
  .openapi("OpenAIModel");
export const modelListSchema = z
  .object({ object: z.literal("list"), data: z.array(modelObjectSchema) })
  .openapi("OpenAIModelList");

export const openAIErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ example: "invalid_request_error" }),
      param: z.string().nullable(),
      code: z.string().nullable().openapi({ example: "model_not_found" }),
    }),
  })
  .openapi("OpenAIError");
export type OpenAIErrorBody = z.infer<typeof openAIErrorSchema>;

export const STREAM_DESCRIPTION =
  "With `stream: true`: server-sent events, one `data: <chunk JSON>` per chunk " +
  "(`chat.completion.chunk` / `text_completion`), then `data: [DONE]`. A failure after the " +
  'first chunk arrives as `data: {"error": …}` and ends the stream.';
