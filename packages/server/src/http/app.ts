import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { registerApiKeyRoutes } from "../admin/api-key-routes.js";
import { registerModelRoutes } from "../admin/model-routes.js";
import { registerOperationsRoutes } from "../admin/operations-routes.js";
import { registerPrincipalRoute } from "../admin/principal-route.js";
import { ApiError } from "../errors.js";
import { registerInferenceRoutes } from "../inference/index.js";
import { registerOpenAIRoutes } from "../openai/index.js";
import { codeflashErrorShape, registerOptimizationRoutes } from "../optimization/index.js";
import type { AppEnv } from "./context.js";
import { registerDocs } from "./docs.js";
import { handleError } from "./error-handler.js";
import { authenticate } from "./middleware/authenticate.js";
import { observeRequests } from "./middleware/observe.js";
import { requestId } from "./middleware/request-id.js";
import { notFoundHandler } from "./not-found.js";
import type { AppServices } from "./services.js";
import { validationHook } from "./validation.js";

export const API_VERSION = "0.1.0";

/** Prefixes whose routes need a principal; operations routes and docs stay open. */
const AUTHENTICATED_PREFIXES = ["/v1/ai/*", "/ai/*"] as const;

/**
 * The whole HTTP surface: the middleware chain of DESIGN.md in order, then the routes of
 * each area. Returns the app so tests and benchmarks can serve it however they like.
 */
export function buildApp(services: AppServices): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId());
  app.use(observeRequests(services.logger, services.metrics));
  const maxBody = services.config.server.body_limit_bytes;
  const tooLarge = () =>
    new ApiError("PAYLOAD_TOO_LARGE", "request body is larger than the server accepts", {
      details: { limit_bytes: maxBody },
    });
  const limitBody = bodyLimit({
    maxSize: maxBody,
    onError: () => {
      throw tooLarge();
    },
  });
  app.use((c, next) => {
    const length = c.req.header("content-length");
    const chunked = c.req.header("transfer-encoding") !== undefined;
    // Only requests that carry a body: touching the body of a GET makes the Node adapter build a
    // full Fetch Request, a cost every bodiless request would pay for nothing.
    if (length === undefined && !chunked) return next();
    // With a Content-Length, Node's parser never delivers more than it says: the header decides,
    // and the body stays unread (bodyLimit would build that Fetch Request for every POST).
    if (!chunked) {
      if (Number.parseInt(length ?? "0", 10) > maxBody) throw tooLarge();
      return next();
    }
    // Chunked bodies are counted as they stream.
    return limitBody(c, next);
  });
  // Outermost on /ai/*: every failure there, auth and rate limits included, in the client's shape.
  app.use("/ai/*", codeflashErrorShape());
  for (const prefix of AUTHENTICATED_PREFIXES) {
    app.use(prefix, authenticate(services.authenticator, services.config.server.trust_proxy));
  }

  registerOperationsRoutes(app, services);
  registerPrincipalRoute(app, services);
  registerApiKeyRoutes(app, services);
  registerModelRoutes(app, services);
  registerInferenceRoutes(app, services);
  registerOptimizationRoutes(app, services);
  // Authenticates its own paths (/v1/chat/completions, /v1/completions, /v1/models) and answers
  // errors there in OpenAI's shape.
  registerOpenAIRoutes(app, services);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key issued by `aiservice keys create`, or a JWT",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKeyAuth", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "aiservice", version: API_VERSION, description: "Self-hostable AI service for code." },
  });
  registerDocs(app);

  app.notFound(notFoundHandler(app));
  app.onError(handleError);
  return app;
}
