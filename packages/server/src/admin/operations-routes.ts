import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import type { AppEnv } from "../http/context.js";
import { errorResponse } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";

const READINESS_TIMEOUT_MS = 2_000;

async function probe(check: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)),
      READINESS_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([check(), timeout]);
    return "ok";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Unauthenticated endpoints for orchestrators and scrapers: liveness, readiness, metrics. */
export function registerOperationsRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      tags: ["operations"],
      summary: "Liveness: the process answers",
      responses: {
        200: {
          description: "Alive",
          content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
        },
      },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/readyz",
      tags: ["operations"],
      summary: "Readiness: the store (and Redis when configured) answer and no shutdown is under way",
      responses: {
        200: {
          description: "Ready",
          content: {
            "application/json": {
              schema: z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.string()) }),
            },
          },
        },
        503: errorResponse("Not ready; details.checks says which dependency failed"),
      },
    }),
    async (c) => {
      if (services.isShuttingDown()) {
        throw new ApiError("SERVICE_UNAVAILABLE", "server is shutting down", {
          details: { shutting_down: true },
        });
      }
      const probes = { store: () => services.store.ping(), ...services.readinessChecks };
      const names = Object.keys(probes);
      const results = await Promise.all(Object.values(probes).map(probe));
      const checks = Object.fromEntries(names.map((name, i) => [name, results[i] ?? "unknown"]));
      if (results.some((r) => r !== "ok")) {
        throw new ApiError("SERVICE_UNAVAILABLE", "a dependency is not ready", { details: { checks } });
      }
      return c.json({ status: "ready" as const, checks }, 200);
    },
  );

  app.get("/metrics", async (c) =>
    c.body(await services.metrics.registry.metrics(), 200, {
      "Content-Type": services.metrics.registry.contentType,
    }),
  );
}
