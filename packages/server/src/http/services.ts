import type { Redis } from "ioredis";
import type { Authenticator } from "../auth/authenticator.js";
import type { Config } from "../config/schema.js";
import type { ModelRegistry } from "../engine/model-registry.js";
import type { ModelRunner } from "../engine/model-runner.js";
import type { Logger } from "../observability/logger.js";
import type { ServerMetrics } from "../observability/metrics.js";
import type { RateLimiter } from "../ratelimit/rate-limiter.js";
import type { Store } from "../store/store.js";

/** What the HTTP layer needs from the rest of the server; built once by `startServer`. */
export interface AppServices {
  config: Config;
  store: Store;
  registry: ModelRegistry;
  /** Runs requests on models (acquire, call, release, record metrics). */
  runner: ModelRunner;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  logger: Logger;
  metrics: ServerMetrics;
  /** The shared Redis client when REDIS_URL is set (rate limits, caches). */
  redis?: Redis | undefined;
  /** Namespace of this deployment's Redis keys. */
  redisKeyPrefix: string;
  /** Extra readiness probes (e.g. Redis); each throws when not ready. */
  readinessChecks: Record<string, () => Promise<void>>;
  /** Background work tied to the server's life: started after listen, stopped while draining. */
  lifecycle: {
    onStart(hook: () => Promise<void>): void;
    onStop(hook: () => Promise<void>): void;
  };
  /** True once shutdown began: /readyz answers 503 so load balancers stop sending traffic. */
  isShuttingDown(): boolean;
}
