import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Logger } from "pino";
import type { Principal } from "../../auth/principal.js";
import type { ServerMetrics } from "../../observability/metrics.js";
import type { AppEnv } from "../context.js";

/** The route pattern that served the request (bounded label cardinality), not the raw path. */
function routeLabel(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    if (route !== undefined && route.method !== "ALL") return route.path;
  }
  return "unmatched";
}

/**
 * The access log line and the HTTP metrics of every request. Runs outermost (after the
 * request id), so it also sees responses produced by `onError` and `notFound`.
 */
export function observeRequests(logger: Logger, metrics: ServerMetrics): MiddlewareHandler<AppEnv> {
  // One histogram child per (method, route, status): prom-client otherwise hashes the label
  // object on every observation. Bounded: routes are patterns, methods and statuses are few.
  const children = new Map<string, { observe(value: number): void }>();
  const histogramFor = (method: string, route: string, status: string) => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (child === undefined) {
      child = metrics.httpDuration.labels({ method, route, status });
      children.set(key, child);
    }
    return child;
  };
  return async (c, next) => {
    const started = performance.now();
    // The base logger, not a per-request child: a child costs an allocation per request, and
    // lines that need the request id carry it as a field.
    c.set("logger", logger);
    await next();
    const durationMs = performance.now() - started;
    const route = routeLabel(c);
    histogramFor(c.req.method, route, String(c.res.status)).observe(durationMs / 1000);
    if (!logger.isLevelEnabled("info")) return;
    const principal = c.get("principal") as Principal | undefined;
    logger.info(
      {
        request_id: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        route,
        status: c.res.status,
        duration_ms: Math.round(durationMs * 100) / 100,
        principal: principal?.id,
      },
      "request",
    );
  };
}
