import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { totalmem } from "node:os";
import { type ServerType, serve } from "@hono/node-server";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Redis } from "ioredis";
import { Authenticator } from "./auth/authenticator.js";
import { createJwtVerifier } from "./auth/jwt-verifier.js";
import { closePythonWorker } from "./code/index.js";
import { ConfigError } from "./config/load-config.js";
import { redactUrl } from "./config/redact-config.js";
import { authRequired, type Config } from "./config/schema.js";
import { createProvider } from "./engine/create-provider.js";
import { discoverModels } from "./engine/discover-models.js";
import type { ModelEntry } from "./engine/model-config.js";
import { ModelRegistry } from "./engine/model-registry.js";
import { ModelRunner } from "./engine/model-runner.js";
import type { ModelProvider } from "./engine/providers/provider.js";
import { buildApp } from "./http/app.js";
import type { AppEnv } from "./http/context.js";
import type { AppServices } from "./http/services.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { buildCfapiApp } from "./optimization/cfapi.js";
import { createRateLimiter } from "./ratelimit/create-rate-limiter.js";
import { openStore } from "./store/open-store.js";

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Base URL of the cfapi stand-in, when `optimization.cfapi` is configured. */
  cfapiUrl?: string;
  port: number;
  app: OpenAPIHono<AppEnv>;
  services: AppServices;
  /** Graceful stop: refuse new connections, drain in-flight requests (bounded), close the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Key prefix for Redis-backed state, so several test servers can share one Redis. */
  redisKeyPrefix?: string;
  /** Disable default process metrics (benchmarks start many servers in one process). */
  processMetrics?: boolean;
  /** How a model entry becomes a provider; tests may substitute scripted test doubles. */
  createProvider?: (entry: ModelEntry) => ModelProvider;
  /** Environment read for model discovery (OPENAI_BASE_URL, OLLAMA_HOST, ANTHROPIC_API_KEY). */
  env?: NodeJS.ProcessEnv;
}

/** Memory that loaded models may take together: the configured budget, else 75% of RAM. */
function memoryBudgetBytes(config: Config): number {
  const mb = config.engine.memory_budget_mb;
  return mb === undefined ? Math.floor(totalmem() * 0.75) : mb * 1024 * 1024;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Open mode on a reachable address would hand the models and the API to anyone on the network. */
export function assertSafeBinding(config: Config): void {
  const hosts = [config.server.host, ...(config.optimization.cfapi ? [config.optimization.cfapi.host] : [])];
  const exposed = hosts.find((host) => !isLoopbackHost(host));
  if (!authRequired(config) && exposed !== undefined) {
    throw new ConfigError(
      `refusing to listen on ${exposed} without authentication: open mode is only allowed on a ` +
        "loopback address. Set `auth.required: true` (and create keys with `aiservice keys create`), " +
        "configure `auth.jwt`, or bind to 127.0.0.1.",
    );
  }
}

function listen(
  app: { fetch: OpenAPIHono<AppEnv>["fetch"] },
  host: string,
  port: number,
): Promise<ServerType> {
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port });
    const onError = (err: NodeJS.ErrnoException) => {
      const reason = err.code === "EADDRINUSE" ? "the address is already in use" : err.message;
      reject(new Error(`cannot listen on ${host}:${port}: ${reason}`, { cause: err }));
    };
    server.once("error", onError);
    server.once("listening", () => {
      server.off("error", onError);
      resolvePromise(server);
    });
  });
}

/** Resolves true once the client is ready, false after `timeoutMs` (it keeps reconnecting). */
function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolvePromise(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolvePromise(true);
    };
    redis.once("ready", onReady);
  });
}

/** Closes the listener and waits for in-flight requests, then cuts what is left. */
function drain(server: ServerType, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise) => {
    const http = server as HttpServer;
    const timer = setTimeout(() => http.closeAllConnections(), timeoutMs);
    // Keep-alive sockets hold close() open until they time out; reap each one as soon as its
    // last response is written instead.
    const reaper = setInterval(() => http.closeIdleConnections(), 50);
    http.close(() => {
      clearTimeout(timer);
      clearInterval(reaper);
      resolvePromise();
    });
    http.closeIdleConnections();
  });
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  assertSafeBinding(config);
  const logger = options.logger ?? createLogger(config.logging.level);
  const store = await openStore({
    dataDir: config.data_dir,
    databaseUrl: config.database_url,
    onBackgroundError: (err) =>
      logger.warn({ err: err.message }, "database connection error (will reconnect)"),
  });
  const redis =
    config.redis_url === undefined
      ? undefined
      : new Redis(config.redis_url, {
          // Fail fast instead of queueing commands while Redis is away; the limiter falls back.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
        });
  redis?.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));
  if (redis !== undefined && !(await redisReady(redis, 3_000))) {
    // Not fatal: rate limits fall back to per-process counters until Redis answers.
    logger.warn(
      { redis: redactUrl(config.redis_url ?? "") },
      "redis not reachable at start-up; limits are per process until it is",
    );
  }

  const registry = new ModelRegistry({
    entries: config.models,
    engine: config.engine,
    memoryBudgetBytes: memoryBudgetBytes(config),
    createProvider:
      options.createProvider ?? ((entry) => createProvider(entry, { dataDir: config.data_dir })),
    repository: store.models,
    logger,
  });
  const discovered = await discoverModels(
    options.env ?? process.env,
    config.engine,
    new Set(config.models.map((m) => m.id)),
    logger,
  );
  for (const entry of discovered) registry.register(entry);
  await registry.restore();

  let shuttingDown = false;
  const startHooks: Array<() => Promise<void>> = [];
  const stopHooks: Array<() => Promise<void>> = [];
  const required = authRequired(config);
  const services: AppServices = {
    config,
    store,
    registry,
    runner: new ModelRunner(registry, store.models, logger),
    redis,
    redisKeyPrefix: options.redisKeyPrefix ?? "aiservice",
    logger,
    metrics: createMetrics({ processMetrics: options.processMetrics ?? true }),
    rateLimiter: createRateLimiter(
      config.rate_limits,
      redis === undefined ? {} : { redis, keyPrefix: options.redisKeyPrefix ?? "aiservice:rl" },
    ),
    authenticator: new Authenticator({
      apiKeys: store.apiKeys,
      required,
      ...(config.auth.jwt === undefined ? {} : { jwt: createJwtVerifier(config.auth.jwt) }),
    }),
    readinessChecks:
      redis === undefined
        ? {}
        : {
            redis: async () => {
              await redis.ping();
            },
          },
    isShuttingDown: () => shuttingDown,
    lifecycle: {
      onStart: (hook) => startHooks.push(hook),
      onStop: (hook) => stopHooks.push(hook),
    },
  };

  if (required && config.auth.jwt === undefined && (await store.apiKeys.list()).every((k) => k.revokedAt)) {
    logger.warn(
      "authentication is required but no active API key exists: create one with `aiservice keys create`",
    );
  }

  const app = buildApp(services);
  let server: ServerType;
  let cfapi: ServerType | undefined;
  try {
    server = await listen(app, config.server.host, config.server.port);
    const cfapiConfig = config.optimization.cfapi;
    if (cfapiConfig !== undefined) {
      cfapi = await listen(buildCfapiApp(services), cfapiConfig.host, cfapiConfig.port).catch(
        async (err: unknown) => {
          await drain(server, 0);
          throw err;
        },
      );
    }
  } catch (err) {
    await Promise.allSettled([services.rateLimiter.close(), redis?.quit(), store.close()]);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  for (const hook of startHooks) await hook();
  const hostForUrl = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  logger.info(
    { host: config.server.host, port, auth: required ? "required" : "open", store: store.dialect },
    "listening",
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      logger.info("shutting down: draining in-flight requests");
      // Background work first: it must not start requests that the drain would then cut.
      for (const hook of stopHooks)
        await hook().catch((err: unknown) => logger.warn({ err }, "stop hook failed"));
      await Promise.all([
        drain(server, config.server.shutdown_timeout_ms),
        cfapi === undefined ? undefined : drain(cfapi, config.server.shutdown_timeout_ms),
      ]);
      await registry.close();
      await closePythonWorker();
      await services.rateLimiter.close();
      if (redis !== undefined) {
        // QUIT waits for Redis to answer; a frozen Redis must not hold the shutdown forever.
        const quit = redis.quit().catch(() => undefined);
        const timeout = new Promise((resolveTimeout) => setTimeout(resolveTimeout, 1_000).unref());
        await Promise.race([quit, timeout]);
        redis.disconnect();
      }
      await store.close();
      logger.info("shutdown complete");
    })();
    return closing;
  };

  const running: RunningServer = { url: `http://${hostForUrl}:${port}`, port, app, services, close };
  if (cfapi !== undefined) {
    const host = config.optimization.cfapi?.host ?? "127.0.0.1";
    running.cfapiUrl = `http://${host.includes(":") ? `[${host}]` : host}:${(cfapi.address() as AddressInfo).port}`;
    logger.info({ url: running.cfapiUrl }, "cfapi stand-in listening");
  }
  return running;
}
