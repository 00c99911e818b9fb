import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/context.js";
import { authenticate } from "../http/middleware/authenticate.js";
import { guard } from "../http/middleware/guard.js";
import { SECURITY } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";
import { openAIErrorShape } from "./errors.js";
import { answer, type GenerationCall } from "./generation.js";
import { modelList, modelObject } from "./models.js";
import {
  type ChatCompletionRequest,
  type CompletionRequest,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  completionRequestSchema,
  completionSchema,
  modelListSchema,
  modelObjectSchema,
  openAIErrorSchema,
  STREAM_DESCRIPTION,
} from "./schemas.js";
import {
  chatAlternatives,
  chatChunkFormat,
  chatCompletion,
  chatRequest,
  completionAlternatives,
  completionChunkFormat,
  completionRequest,
  isFim,
  responseContext,
  textCompletion,
} from "./translate.js";

/** Every path of the OpenAI-compatible surface (authentication and error shape apply to all). */
export const OPENAI_PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/models/:model"];

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: openAIErrorSchema } },
});

/** Failures these routes answer with, in OpenAI's error shape. */
const ERROR_RESPONSES = {
  400: errorResponse("Invalid request (`param` names the first offending field)"),
  401: errorResponse("Missing or invalid API key"),
  403: errorResponse("The credentials lack the route's scope"),
  404: errorResponse("Unknown model (`code: model_not_found`)"),
  429: errorResponse("Rate limit exceeded (Retry-After says when to retry)"),
  500: errorResponse("Internal error"),
  502: errorResponse("The model's upstream failed"),
  503: errorResponse("Overloaded"),
  504: errorResponse("The model's upstream timed out"),
} as const;

const TAGS = ["openai"];

const eventStream = { schema: z.string().openapi({ description: STREAM_DESCRIPTION }) };

function chatCall(body: ChatCompletionRequest): GenerationCall {
  const alternatives = chatAlternatives(body);
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    path: "chat/completions",
    body,
    kind: "chat",
    stream: body.stream === true,
    includeUsage,
    request: (signal) => chatRequest(body, signal),
    respond: (result) => chatCompletion(responseContext("chat", body.model), result, alternatives),
    chunks: () => chatChunkFormat(responseContext("chat", body.model), alternatives, includeUsage),
  };
}

function completionCall(body: CompletionRequest): GenerationCall {
  const alternatives = completionAlternatives(body);
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    path: "completions",
    body,
    kind: isFim(body) ? "fim" : "completion",
    stream: body.stream === true,
    includeUsage,
    request: (signal) => completionRequest(body, signal),
    respond: (result) => textCompletion(responseContext("completion", body.model), result, alternatives),
    chunks: () =>
      completionChunkFormat(responseContext("completion", body.model), alternatives, includeUsage),
  };
}

/**
 * The OpenAI-compatible surface (DESIGN.md `openai/`): `POST /v1/chat/completions`,
 * `POST /v1/completions` (FIM with `suffix`), `GET /v1/models[/{model}]`, with the API's own
 * authentication, the `inference` scope and rate limit, and errors in OpenAI's shape.
 */
export function registerOpenAIRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  for (const path of OPENAI_PATHS) {
    // The error shape first, so that authentication failures get it too.
    app.use(path, openAIErrorShape());
    app.use(path, authenticate(services.authenticator, services.config.server.trust_proxy));
  }
  const inference = guard(services, { scope: "inference", rateLimit: "inference" });
  const anyCaller = guard(services, {});
  const { runner, registry } = services;
  // OpenAI reports when a model was created; ours exist since the server started.
  const created = Math.floor(Date.now() / 1000);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/chat/completions",
      tags: TAGS,
      summary: "OpenAI-compatible chat completion (streaming with `stream: true`)",
      security: SECURITY,
      middleware: [inference] as const,
      request: {
        body: { required: true, content: { "application/json": { schema: chatCompletionRequestSchema } } },
      },
      responses: {
        200: {
          description: "The completion, or its chunks as server-sent events",
          content: { "application/json": { schema: chatCompletionSchema }, "text/event-stream": eventStream },
        },
        ...ERROR_RESPONSES,
      },
    }),
    (c) => answer(c, runner, chatCall(c.req.valid("json"))),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/completions",
      tags: TAGS,
      summary: "OpenAI-compatible text completion; fill-in-the-middle with `suffix`",
      security: SECURITY,
      middleware: [inference] as const,
      request: {
        body: { required: true, content: { "application/json": { schema: completionRequestSchema } } },
      },
      responses: {
        200: {
          description: "The completion, or its chunks as server-sent events",
          content: { "application/json": { schema: completionSchema }, "text/event-stream": eventStream },
        },
        ...ERROR_RESPONSES,
      },
    }),
    (c) => answer(c, runner, completionCall(c.req.valid("json"))),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models",
      tags: TAGS,
      summary: "OpenAI-compatible model list",
      security: SECURITY,
      middleware: [anyCaller] as const,
      responses: {
        200: {
          description: "Every registered model",
          content: { "application/json": { schema: modelListSchema } },
        },
        ...ERROR_RESPONSES,
      },
    }),
    (c) => c.json(modelList(registry.list(), created), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models/{model}",
      tags: TAGS,
      summary: "OpenAI-compatible model lookup",
      security: SECURITY,
      middleware: [anyCaller] as const,
      request: { params: z.object({ model: z.string().min(1) }) },
      responses: {
        200: { description: "The model", content: { "application/json": { schema: modelObjectSchema } } },
        ...ERROR_RESPONSES,
      },
    }),
    (c) => c.json(modelObject(registry.get(c.req.valid("param").model), created), 200),
  );
}
