import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/context.js";
import type { AppServices } from "../http/services.js";
import { AssistantService } from "./assistant-service.js";
import { CandidateService } from "./candidate-service.js";
import { pythonJsonBody } from "./codeflash-http.js";
import { OptimizationEngine } from "./optimization-engine.js";
import { registerCodeflashRoutes } from "./routes.js";
import { TestgenService } from "./testgen-service.js";
import { registerTraceRoutes } from "./trace-routes.js";

export { codeflashErrorShape } from "./codeflash-http.js";

/** The optimization API: /ai/* for the codeflash client, plus its traces and experiment reports. */
export function registerOptimizationRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const engine = new OptimizationEngine({
    config: services.config.optimization,
    registry: services.registry,
    runner: services.runner,
    repository: services.store.optimization,
    logger: services.logger,
  });
  app.use("/ai/*", pythonJsonBody());
  registerCodeflashRoutes(app, services, {
    engine,
    candidates: new CandidateService(engine, services.config.optimization),
    tests: new TestgenService(engine),
    assistant: new AssistantService(engine),
  });
  registerTraceRoutes(app, services);
}
