import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError, invalidRequest, isApiError } from "../../errors.js";
import type { AppEnv } from "../../http/context.js";
import { errorBody, toApiError } from "../../http/error-envelope.js";
import { protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import type { AsyncRequestQueue } from "../async/async-request-queue.js";
import type { CompletionService, PreparedCompletion } from "./completion-service.js";
import { completionRequestSchema, completionResponseSchema } from "./completion-schemas.js";

/**
 * SSE: `delta` events while the main sample is generated, then `done` with the full body, or
 * `error` with the envelope. A client that leaves aborts the generation.
 */
function streamCompletion(c: Context<AppEnv>, completion: PreparedCompletion): Response {
  return streamSSE(c, async (sse) => {
    const abort = new AbortController();
    sse.onAbort(() => abort.abort());
    const signal = AbortSignal.any([abort.signal, c.req.raw.signal]);
    try {
      const done = await completion.run({
        signal,
        onDelta: (text) => sse.writeSSE({ event: "delta", data: JSON.stringify({ text }) }),
      });
      if (!signal.aborted) await sse.writeSSE({ event: "done", data: JSON.stringify(done) });
    } catch (err) {
      if (signal.aborted) return; // nobody is listening any more
      const apiError =
        toApiError(err) ?? new ApiError("INTERNAL_ERROR", "internal error; the server log has the details");
      if (!isApiError(err) || apiError.status >= 500)
        c.get("logger")?.error({ err, request_id: c.get("requestId") }, "completion stream failed");
      await sse.writeSSE({ event: "error", data: JSON.stringify(errorBody(apiError, c.get("requestId"))) });
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
      if (body.options?.async) {
        if (body.options.stream) {
          throw invalidRequest("options.async and options.stream cannot be combined", [
            { path: "options.stream", message: "must be false with options.async" },
          ]);
        }
        completions.validate(body);
        const requestId = await asyncRequests.submit(c.get("principal").id, "completion", body);
        return c.json({ request_id: requestId, status: "queued" as const }, 202);
      }
      // Bad input, an unknown model or a failed load answer as JSON errors, before any stream.
      const completion = await completions.prepare(body, started);
      if (body.options?.stream) return streamCompletion(c, completion);
      return c.json(await completion.run({ signal: c.req.raw.signal }), 200);
    },
  );
}
