import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { GenerationChunk, TokenProbability } from "../../engine/providers/provider.js";
import { ApiError, invalidRequest, isApiError } from "../../errors.js";
import type { AppEnv } from "../../http/context.js";
import { errorBody, toApiError } from "../../http/error-envelope.js";
import { protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import type { AsyncRequestQueue } from "../async/async-request-queue.js";
import { type CompletionService, completionResponse } from "./completion-service.js";
import { completionRequest, completionText, splitAtCursor } from "./completion-request.js";
import {
  type CompletionRequest,
  completionRequestSchema,
  completionResponseSchema,
} from "./completion-schemas.js";

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
      const done = completionResponse(
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
export function registerCompletionRoute(
  app: OpenAPIHono<AppEnv>,
  services: AppServices,
  completions: CompletionService,
  asyncRequests: AsyncRequestQueue,
): void {
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
          202: {
            description: "Accepted (options.async): poll GET /v1/ai/inference/requests/{request_id}",
            content: {
              "application/json": {
                schema: z.object({ request_id: z.string(), status: z.literal("queued") }),
              },
            },
          },
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
        if (body.options.stream) {
          throw invalidRequest("options.async and options.stream cannot be combined", [
            { path: "options.stream", message: "must be false with options.async" },
          ]);
        }
        const requestId = await asyncRequests.submit(c.get("principal").id, "completion", body);
        return c.json({ request_id: requestId, status: "queued" as const }, 202);
      }
      if (body.options?.stream) {
        const { model } = await services.runner.describe(body.model_id);
        return streamCompletion(c, services, body, model.capabilities.fim, started);
      }
      return c.json(await completions.run(body, c.req.raw.signal, started), 200);
    },
  );
}
