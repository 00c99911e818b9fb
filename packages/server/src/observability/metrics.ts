import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/**
 * One registry per server instance (not prom-client's global one), so several servers in one
 * process — tests, benchmarks — never share or double-register metrics.
 */
export interface ServerMetrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  rateLimited: Counter<"category">;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "aiservice_" });
  return {
    registry,
    httpDuration: new Histogram({
      name: "aiservice_http_request_duration_seconds",
      // Its _count series is the request counter: a separate counter would cost every request twice.
      help: "HTTP request duration in seconds (until the response is ready), by method, route and status.",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "aiservice_rate_limited_total",
      help: "Requests refused with 429, by the category that refused them.",
      labelNames: ["category"],
      registers: [registry],
    }),
  };
}
