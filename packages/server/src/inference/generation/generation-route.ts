import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { extractCodeBlocks, languageOf } from "../../code/index.js";
import type { AppEnv } from "../../http/context.js";
import { protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import { confidenceFromTokens } from "../confidence.js";
import { inferenceMetadataSchema, inferenceParametersSchema, samplingFrom } from "../common-schemas.js";
import { GENERATION_PROMPT_V1 } from "../prompts/generation.v1.js";
import { renderPrompt } from "../prompts/prompt-template.js";

const generationRequestSchema = z
  .object({
    model_id: z.string().min(1).max(128),
    prompt: z.string().min(1).max(100_000),
    context: z
      .object({
        language: z.string().min(1).max(32).optional(),
        existing_code: z.string().max(400_000).optional(),
      })
      .optional(),
    parameters: inferenceParametersSchema.optional(),
  })
  .openapi("GenerationRequest");

const generationResponseSchema = z
  .object({
    generation: z.object({
      text: z.string(),
      code: z.string(),
      language: z.string().nullable(),
      confidence: z.number().nullable(),
      metadata: inferenceMetadataSchema,
    }),
  })
  .openapi("GenerationResponse");

/** `POST /v1/ai/inference/generation`: natural language in, code (and the whole answer) out. */
export function registerGenerationRoute(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  app.openapi(
    protectedRoute(
      services,
      { scope: "inference", rateLimit: "inference" },
      {
        method: "post",
        path: "/v1/ai/inference/generation",
        tags: ["inference"],
        summary: "Generate code from a description",
        request: {
          body: { required: true, content: { "application/json": { schema: generationRequestSchema } } },
        },
        responses: {
          200: {
            description: "Generated code",
            content: { "application/json": { schema: generationResponseSchema } },
          },
        },
      },
    ),
    async (c) => {
      const body = c.req.valid("json");
      const started = performance.now();
      const language = body.context?.language ?? "text";
      const existing = body.context?.existing_code;
      const prompt = renderPrompt(GENERATION_PROMPT_V1, {
        language,
        request: body.prompt,
        existing_code_section:
          existing === undefined || existing.trim() === ""
            ? ""
            : `The code must fit into this existing code:\n\`\`\`${language}\n${existing}\n\`\`\``,
      });
      const result = await services.runner.generate(body.model_id, {
        input: {
          kind: "chat",
          messages: [
            { role: "system", content: prompt.system },
            { role: "user", content: prompt.user },
          ],
        },
        sampling: samplingFrom(body.parameters, { maxTokens: 1024 }),
        logprobs: true,
        signal: c.req.raw.signal,
      });
      const wanted = languageOf(language);
      const { blocks, prose } = extractCodeBlocks(
        result.text,
        wanted === undefined ? {} : { defaultLanguage: wanted },
      );
      const matching =
        wanted === undefined
          ? blocks
          : blocks.filter((b) => b.language === wanted || b.language === undefined);
      const chosen = matching.length > 0 ? matching : blocks;
      // No fenced block at all: the model answered with bare code (common for small models).
      const code = chosen.length > 0 ? chosen.map((b) => b.code).join("\n\n") : prose.trim();
      return c.json(
        {
          generation: {
            text: result.text,
            code,
            language: chosen[0]?.language ?? wanted ?? null,
            confidence: confidenceFromTokens(result.tokens),
            metadata: {
              model_used: body.model_id,
              tokens_used: result.usage.promptTokens + result.usage.completionTokens,
              processing_time_ms: Math.round(performance.now() - started),
            },
          },
        },
        200,
      );
    },
  );
}
