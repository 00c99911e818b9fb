import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { LoadPriority } from "../engine/load-queue.js";
import type { ModelView } from "../engine/model-registry.js";
import type { AppEnv } from "../http/context.js";
import { errorResponse, protectedRoute } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";
import type { ModelPerformance } from "../store/model-repository.js";

const MB = 1024 * 1024;
const STATUSES = ["available", "loading", "loaded", "unloading", "error"] as const;

const modelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(["completion", "chat"]),
    status: z.enum(STATUSES),
    capabilities: z.array(z.string()),
    memory_usage_mb: z.number().int(),
    last_used: z.string().nullable(),
    performance_metrics: z.object({
      avg_inference_time_ms: z.number().nullable(),
      success_rate: z.number().nullable(),
    }),
    provider: z.enum(["llama-cpp", "openai-compatible", "anthropic"]),
    context_length: z.number().int().nullable(),
    error: z.string().nullable(),
    progress: z.object({ phase: z.enum(["download", "load"]), percent: z.number().nullable() }).nullable(),
  })
  .openapi("Model");

const listQuery = z.object({
  status: z.enum(STATUSES).optional(),
  capability: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Opaque: the id after which the page starts. */
  cursor: z.string().optional(),
});

const loadBody = z
  .object({
    priority: z.enum(["high", "normal", "low"]).default("normal"),
    timeout_seconds: z.number().int().min(1).max(86_400).optional(),
    force_reload: z.boolean().default(false),
  })
  .openapi("LoadModelRequest");

const loadResponse = z
  .object({
    model_id: z.string(),
    status: z.enum(["loading", "loaded"]),
    estimated_completion_time_seconds: z.number().int(),
    queue_position: z.number().int(),
  })
  .openapi("LoadModelResponse");

const unloadResponse = z
  .object({
    model_id: z.string(),
    status: z.literal("unloaded"),
    memory_freed_mb: z.number().int(),
    unload_time_ms: z.number().int(),
  })
  .openapi("UnloadModelResponse");

const modelParams = z.object({ model_id: z.string().min(1).max(128) });

/** Seed capability names: what the entry says, else what the runtime reported. */
function capabilitiesOf(view: ModelView): string[] {
  if (view.entry.capabilities !== undefined) return view.entry.capabilities;
  const caps = ["code_generation", "refactoring"];
  if (view.capabilities?.fim ?? view.entry.provider === "llama-cpp") caps.unshift("code_completion");
  return caps;
}

function toModel(view: ModelView, perf: ModelPerformance | undefined): z.infer<typeof modelSchema> {
  const fim = view.capabilities?.fim ?? false;
  return {
    id: view.entry.id,
    name: view.entry.name ?? view.entry.id,
    type: view.entry.type ?? (fim || view.entry.provider === "llama-cpp" ? "completion" : "chat"),
    status: view.status,
    capabilities: capabilitiesOf(view),
    memory_usage_mb: Math.round(view.memoryBytes / MB),
    last_used: view.lastUsed === null ? null : view.lastUsed.toISOString().replace(/\.\d{3}Z$/, "Z"),
    performance_metrics: {
      avg_inference_time_ms: perf?.avgDurationMs ?? null,
      success_rate: perf?.successRate ?? null,
    },
    provider: view.entry.provider,
    context_length: view.entry.context_length ?? view.capabilities?.contextLength ?? null,
    error: view.error,
    progress:
      view.progress === undefined
        ? null
        : {
            phase: view.progress.phase,
            percent:
              view.progress.fraction === undefined ? null : Math.round(view.progress.fraction * 1000) / 10,
          },
  };
}

/** Model management of spec/ai-api.md "Models". */
export function registerModelRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const { registry } = services;
  const manage = { scope: "models:manage", rateLimit: "models" } as const;

  app.openapi(
    protectedRoute(
      services,
      {},
      {
        method: "get",
        path: "/v1/ai/models",
        tags: ["models"],
        summary: "List models with status, memory and measured performance",
        request: { query: listQuery },
        responses: {
          200: {
            description: "Models, ordered by id",
            content: {
              "application/json": {
                schema: z.object({
                  models: z.array(modelSchema),
                  pagination: z.object({
                    total_count: z.number().int(),
                    has_more: z.boolean(),
                    next_cursor: z.string().nullable(),
                  }),
                }),
              },
            },
          },
        },
      },
    ),
    async (c) => {
      const query = c.req.valid("query");
      const perf = await services.store.models.performance();
      let models = registry
        .list()
        .map((view) => toModel(view, perf.get(view.entry.id)))
        .sort((a, b) => a.id.localeCompare(b.id));
      if (query.status !== undefined) models = models.filter((m) => m.status === query.status);
      if (query.capability !== undefined) {
        const wanted = query.capability;
        models = models.filter((m) => m.capabilities.includes(wanted));
      }
      const total = models.length;
      const start = query.cursor === undefined ? 0 : models.findIndex((m) => m.id > (query.cursor as string));
      const page = start < 0 ? [] : models.slice(start, start + query.limit);
      const hasMore = start >= 0 && start + query.limit < total;
      return c.json(
        {
          models: page,
          pagination: {
            total_count: total,
            has_more: hasMore,
            next_cursor: hasMore ? (page.at(-1)?.id ?? null) : null,
          },
        },
        200,
      );
    },
  );

  app.openapi(
    protectedRoute(
      services,
      {},
      {
        method: "get",
        path: "/v1/ai/models/{model_id}",
        tags: ["models"],
        summary: "One model (poll it to follow a load)",
        request: { params: modelParams },
        responses: {
          200: { description: "The model", content: { "application/json": { schema: modelSchema } } },
          404: errorResponse("MODEL_NOT_FOUND, with available_models and a suggestion"),
        },
      },
    ),
    async (c) => {
      const id = c.req.valid("param").model_id;
      const view = registry.get(id);
      const perf = await services.store.models.performance();
      return c.json(toModel(view, perf.get(id)), 200);
    },
  );

  app.openapi(
    protectedRoute(services, manage, {
      method: "post",
      path: "/v1/ai/models/{model_id}/load",
      tags: ["models"],
      summary: "Load a model into memory (queued by priority)",
      request: {
        params: modelParams,
        body: { required: false, content: { "application/json": { schema: loadBody } } },
      },
      responses: {
        200: { description: "Already loaded", content: { "application/json": { schema: loadResponse } } },
        202: {
          description: "Load queued or started",
          content: { "application/json": { schema: loadResponse } },
        },
        404: errorResponse("MODEL_NOT_FOUND"),
        409: errorResponse("The model is unloading"),
        507: errorResponse("INSUFFICIENT_MEMORY"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").model_id;
      const body = loadBody.parse(c.req.valid("json") ?? {});
      const ticket = await registry.requestLoad(id, {
        priority: body.priority as LoadPriority,
        forceReload: body.force_reload,
        ...(body.timeout_seconds === undefined ? {} : { timeoutSeconds: body.timeout_seconds }),
      });
      const payload = {
        model_id: id,
        status: ticket.status,
        estimated_completion_time_seconds: ticket.estimatedSeconds,
        queue_position: ticket.queuePosition,
      };
      return ticket.status === "loaded" ? c.json(payload, 200) : c.json(payload, 202);
    },
  );

  app.openapi(
    protectedRoute(services, manage, {
      method: "post",
      path: "/v1/ai/models/{model_id}/unload",
      tags: ["models"],
      summary: "Unload a model and free its memory (waits for in-flight requests)",
      request: { params: modelParams },
      responses: {
        200: { description: "Unloaded", content: { "application/json": { schema: unloadResponse } } },
        404: errorResponse("MODEL_NOT_FOUND"),
        409: errorResponse("Still loading, or requests still in flight after the wait"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").model_id;
      const result = await registry.unload(id);
      return c.json(
        {
          model_id: id,
          status: "unloaded" as const,
          memory_freed_mb: Math.round(result.memoryFreedBytes / MB),
          unload_time_ms: result.unloadTimeMs,
        },
        200,
      );
    },
  );
}
