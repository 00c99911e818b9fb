import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { notFound } from "../errors.js";
import type { AppEnv } from "../http/context.js";
import { protectedRoute } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";
import { experimentReport, experimentReportSchema } from "./experiments.js";
import type { CallRecord } from "./trace-recorder.js";

const traceSchema = z
  .object({
    trace_id: z.string(),
    calls: z.array(
      z.object({
        id: z.string(),
        endpoint: z.string(),
        created_at: z.string(),
        duration_ms: z.number(),
        status: z.enum(["ok", "failed"]),
        experiment_id: z.string().nullable(),
        variant: z.string().nullable(),
        prompt_version: z.number(),
        replayed_from: z.string().nullable(),
        request: z.unknown(),
        model_calls: z.array(z.record(z.string(), z.unknown())),
        candidates: z.array(z.record(z.string(), z.unknown())),
        drops: z.array(z.record(z.string(), z.unknown())),
        notes: z.array(z.string()),
        response: z.unknown(),
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi("OptimizationTrace");

/** `GET /v1/ai/traces/{trace_id}` and `GET /v1/ai/experiments/{id}` (monitoring scope). */
export function registerTraceRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const repository = services.store.optimization;
  app.openapi(
    protectedRoute(
      services,
      { scope: "monitoring" },
      {
        method: "get",
        path: "/v1/ai/traces/{trace_id}",
        tags: ["optimization"],
        summary: "Everything stored for one trace: requests, prompts, raw outputs, candidates, drops",
        request: { params: z.object({ trace_id: z.string().min(1).max(256) }) },
        responses: {
          200: { description: "The trace", content: { "application/json": { schema: traceSchema } } },
        },
      },
    ),
    async (c) => {
      const { trace_id } = c.req.valid("param");
      const calls = await repository.callsOfTrace(trace_id);
      if (calls.length === 0) throw notFound(`no calls stored for trace ${trace_id}`);
      return c.json(
        {
          trace_id,
          calls: calls.map((call) => {
            const record = call.record as CallRecord;
            return {
              id: call.id,
              endpoint: call.endpoint,
              created_at: call.createdAt,
              duration_ms: call.durationMs,
              status: call.status,
              experiment_id: call.experimentId,
              variant: call.variant,
              prompt_version: record.prompt_version,
              replayed_from: record.replayed_from,
              request: call.request,
              model_calls: record.model_calls as unknown as Record<string, unknown>[],
              candidates: record.candidates as unknown as Record<string, unknown>[],
              drops: record.drops as unknown as Record<string, unknown>[],
              notes: record.notes,
              response: call.response,
              error: call.error,
            };
          }),
        },
        200,
      );
    },
  );
  app.openapi(
    protectedRoute(
      services,
      { scope: "monitoring" },
      {
        method: "get",
        path: "/v1/ai/experiments/{experiment_id}",
        tags: ["optimization"],
        summary: "A/B report of an experiment: per variant and per model",
        request: { params: z.object({ experiment_id: z.string().min(1).max(256) }) },
        responses: {
          200: {
            description: "The report",
            content: { "application/json": { schema: experimentReportSchema } },
          },
        },
      },
    ),
    async (c) => {
      const { experiment_id } = c.req.valid("param");
      const report = await experimentReport(repository, experiment_id);
      if (report === undefined) throw notFound(`no results reported for experiment ${experiment_id}`);
      return c.json(report, 200);
    },
  );
}
