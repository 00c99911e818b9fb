import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.js";
import { errorResponse, protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import type { AsyncRequestQueue } from "./async-request-queue.js";

const statusSchema = z
  .object({
    request_id: z.string(),
    status: z.enum(["queued", "running", "completed", "failed"]),
    result: z.unknown().nullable(),
    error: z
      .object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) })
      .nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi("InferenceRequestStatus");

/** `GET /v1/ai/inference/requests/{request_id}`: status and, when done, the synchronous body. */
export function registerRequestStatusRoute(
  app: OpenAPIHono<AppEnv>,
  services: AppServices,
  queue: AsyncRequestQueue,
): void {
  app.openapi(
    protectedRoute(
      services,
      { scope: "inference" },
      {
        method: "get",
        path: "/v1/ai/inference/requests/{request_id}",
        tags: ["inference"],
        summary: "Status and result of an async inference request (only its owner sees it)",
        request: { params: z.object({ request_id: z.string().min(1).max(64) }) },
        responses: {
          200: { description: "The request", content: { "application/json": { schema: statusSchema } } },
          404: errorResponse("No such request for this caller"),
        },
      },
    ),
    async (c) => {
      const record = await queue.get(c.req.valid("param").request_id, c.get("principal").id);
      return c.json(
        {
          request_id: record.id,
          status: record.status,
          result: record.result ?? null,
          error: (record.error as z.infer<typeof statusSchema>["error"]) ?? null,
          created_at: record.createdAt,
          completed_at: record.completedAt,
        },
        200,
      );
    },
  );
}
