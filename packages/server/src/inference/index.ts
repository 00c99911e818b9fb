import type { OpenAPIHono } from "@hono/zod-openapi";
import { invalidRequest } from "../errors.js";
import type { AppEnv } from "../http/context.js";
import type { AppServices } from "../http/services.js";
import { zodIssues } from "../zod-issues.js";
import { AsyncRequestQueue } from "./async/async-request-queue.js";
import { registerRequestStatusRoute } from "./async/request-status-route.js";
import { registerCompletionRoute } from "./completion/completion-route.js";
import { completionRequestSchema } from "./completion/completion-schemas.js";
import { CompletionService } from "./completion/completion-service.js";
import { registerGenerationRoute } from "./generation/generation-route.js";
import { registerRefactorRoute } from "./refactor/refactor-route.js";

/**
 * The /v1/ai/inference routes and the async worker behind `options.async`. The worker starts
 * with the server (after listen: requests a previous process left queued or running are taken
 * up again) and stops through the shutdown hook, so accepted requests survive a restart.
 */
export function registerInferenceRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const completions = new CompletionService(services);
  const queue = new AsyncRequestQueue({
    repository: services.store.inferenceRequests,
    logger: services.logger,
    singleProcess: services.store.dialect === "sqlite",
  });
  queue.register("completion", (stored, signal) => {
    // Stored by an older version, the body may no longer be valid: fail it with the reason.
    const parsed = completionRequestSchema.safeParse(stored);
    if (!parsed.success)
      throw invalidRequest("the stored request is no longer valid", zodIssues(parsed.error));
    return completions.run(parsed.data, { signal });
  });
  registerCompletionRoute(app, services, completions, queue);
  registerGenerationRoute(app, services);
  registerRefactorRoute(app, services);
  registerRequestStatusRoute(app, services, queue);
  services.lifecycle.onStart(() => queue.start());
  services.lifecycle.onStop(() => queue.stop());
}
