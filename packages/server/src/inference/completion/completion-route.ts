import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { GenerationChunk, TokenProbability } from "../../engine/providers/provider.js";
import { invalidRequest, isApiError } from "../../errors.js";
import type { AppEnv } from "../../http/context.js";
import { errorBody, toApiError } from "../../http/error-envelope.js";
import { protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import { ApiError } from "../../errors.js";
import { confidenceFromTokens } from "../confidence.js";
import { CompletionCache } from "./completion-cache.js";
import { completionRequest, completionText, splitAtCursor } from "./completion-request.js";
import {
  type CompletionRequest,
  type CompletionResponse,
  completionRequestSchema,
  completionResponseSchema,
} from "./completion-schemas.js";

function responseBody(
  body: CompletionRequest,
  text: string,
  tokens: TokenProbability[] | undefined,
  tokensUsed: number,
  started: number,
  suggestions: CompletionResponse["suggestions"],
): CompletionResponse {
  return {
    completion: {
      text,
      confidence: confidenceFromTokens(tokens),
      metadata: {
        model_used: body.model_id,
        tokens_used: tokensUsed,
        processing_time_ms: Math.round(performance.now() - started),
        cache_hit: false,
      },
    },
    suggestions,
  };
}

/** SSE: `delta` events while generating, then `done` with the full body, or `error` with the envelope. */
function streamCompletion(
  c: Context<AppEnv>,
  services: AppServices,
  body: CompletionRequest,
  fim: boolean,
  started: number,
): Response {
  const abort = new AbortController();
  const request = { ...completionRequest(body, fim), signal: abort.signal };
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => abort.abort());
    const chunks = services.runner.stream(body.model_id, request);
    let raw = "";
    const tokens: TokenProbability[] = [];
    let usage: GenerationChunk["usage"];
    try {
      for await (const chunk of chunks) {
        if (sse.aborted) break;
        raw += chunk.text;
        if (chunk.tokens !== undefined) tokens.push(...chunk.tokens);
        if (chunk.usage !== undefined) usage = chunk.usage;
        if (chunk.text !== "")
          await sse.writeSSE({ event: "delta", data: JSON.stringify({ text: chunk.text }) });
      }
      if (sse.aborted) return;
      const used = (usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0);
      const done = responseBody(
        body,
        completionText(raw, fim),
        tokens.length > 0 ? tokens : undefined,
        used,
        started,
        [],
      );
      await sse.writeSSE({ event: "done", data: JSON.stringify(done) });
    } catch (err) {
      const apiError =
        toApiError(err) ?? new ApiError("INTERNAL_ERROR", "internal error; the server log has the details");
      if (!isApiError(err))
        c.get("logger")?.error({ err, request_id: c.get("requestId") }, "completion stream failed");
      await sse.writeSSE({ event: "error", data: JSON.stringify(errorBody(apiError, c.get("requestId"))) });
    } finally {
      // Closing the generator gives the model back (and cancels it if the client left).
      await chunks.return(undefined);
    }
  });
}

/** `POST /v1/ai/inference/completion`: code at the cursor (spec/ai-api.md "Inference"). */
export function registerCompletionRoute(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const cache = new CompletionCache(
    services.metrics.registry,
    services.logger,
    services.redis,
    `${services.redisKeyPrefix}:cache:completion:`,
  );
  app.openapi(
    protectedRoute(
      services,
      { scope: "inference", rateLimit: "inference" },
      {
        method: "post",
        path: "/v1/ai/inference/completion",
        tags: ["inference"],
        summary:
          "Complete code at the cursor (fill-in-the-middle when the model supports it); SSE with options.stream",
        request: {
          body: { required: true, content: { "application/json": { schema: completionRequestSchema } } },
        },
        responses: {
          200: {
            description: "The completion (or an SSE stream of delta/done/error events)",
            content: {
              "application/json": { schema: completionResponseSchema },
              "text/event-stream": {
                schema: z.string().openapi({
                  description:
                    "With options.stream: `delta` events {text}, then `done` (the JSON body) or `error` (the envelope)",
                }),
              },
            },
          },
        },
      },
    ),
    async (c) => {
      const body = c.req.valid("json");
      const started = performance.now();
      splitAtCursor(body); // validate before loading anything
      if (body.options?.async) {
        throw invalidRequest(
          "options.async is not available in this version; send the request synchronously",
          [{ path: "options.async", message: "not supported yet" }],
        );
      }
      const { model } = await services.runner.describe(body.model_id);
      const fim = model.capabilities.fim;
      if (body.options?.stream) return streamCompletion(c, services, body, fim, started);

      // Default: cache only deterministic requests (temperature 0), as the spec says.
      const useCache = body.options?.cache ?? body.parameters?.temperature === 0;
      const cacheKey = useCache ? CompletionCache.keyOf(body) : undefined;
      if (cacheKey !== undefined) {
        const hit = await cache.get(cacheKey);
        if (hit !== undefined) {
          services.runner.recordCacheHit(body.model_id);
          const metadata = {
            ...hit.completion.metadata,
            processing_time_ms: Math.round(performance.now() - started),
          };
          return c.json(
            { ...hit, completion: { ...hit.completion, metadata: { ...metadata, cache_hit: true } } },
            200,
          );
        }
      }

      const samples = body.parameters?.n ?? 1;
      const results = await Promise.all(
        Array.from({ length: samples }, (_, i) =>
          services.runner.generate(body.model_id, {
            ...completionRequest(body, fim, i === 0 ? undefined : i),
            signal: c.req.raw.signal,
          }),
        ),
      );
      const [main, ...extra] = results;
      if (main === undefined) throw new ApiError("INTERNAL_ERROR", "no completion was generated");
      const used = results.reduce((sum, r) => sum + r.usage.promptTokens + r.usage.completionTokens, 0);
      const response = responseBody(
        body,
        completionText(main.text, fim),
        main.tokens,
        used,
        started,
        extra.map((r, i) => ({
          text: completionText(r.text, fim),
          confidence: confidenceFromTokens(r.tokens),
          reasoning: `alternative sample ${i + 2} of ${samples}`,
        })),
      );
      if (cacheKey !== undefined) await cache.set(cacheKey, response);
      return c.json(response, 200);
    },
  );
}
