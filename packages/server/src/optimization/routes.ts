/**
 * The /ai/* routes of the codeflash protocol (spec/codeflash-protocol.md §2): one declaration
 * per endpoint, registered under every spelling the client or the seed uses (§7) — `-` and `_`
 * interchangeable, plus the seed's aliases — each with the real endpoint's shapes.
 */
import type { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/context.js";
import { protectedRoute } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";
import type { AssistantService } from "./assistant-service.js";
import type { CandidateService } from "./candidate-service.js";
import { storeFeatures } from "./experiments.js";
import type { OptimizationEngine, RequestContext } from "./optimization-engine.js";
import {
  adaptiveOptimizeRequestSchema,
  candidateSchema,
  codeflashErrorSchema,
  codeRepairRequestSchema,
  explainRequestSchema,
  explainResponseSchema,
  logFeaturesRequestSchema,
  logFeaturesResponseSchema,
  optimizationReviewRequestSchema,
  optimizationReviewResponseSchema,
  optimizationsResponseSchema,
  optimizeRequestSchema,
  rankRequestSchema,
  rankResponseSchema,
  refinementRequestSchema,
  refinementsResponseSchema,
  testgenRepairRequestSchema,
  testgenRequestSchema,
  testgenReviewRequestSchema,
  testgenReviewResponseSchema,
  testsResponseSchema,
  workflowGenRequestSchema,
  workflowGenResponseSchema,
} from "./schemas.js";
import type { TestgenService } from "./testgen-service.js";

interface Endpoint<S extends z.ZodType, R extends z.ZodType> {
  /** The path the real client calls (after /ai/). */
  name: string;
  /** Other names that reach the same endpoint (seed names, legacy paths). */
  aliases?: string[];
  summary: string;
  request: S;
  response: R;
  handle(body: z.infer<S>, context: RequestContext): Promise<z.infer<R>>;
}

const codeflashError = (description: string) => ({
  description,
  content: { "application/json": { schema: codeflashErrorSchema } },
});

/** Failures in the client's shape (§1): any non-200 with `{"error": message}`. */
const ERROR_RESPONSES = {
  400: codeflashError("Invalid request"),
  401: codeflashError("Missing or invalid credentials"),
  403: codeflashError("The credentials lack the `inference` scope"),
  404: codeflashError("Nothing stored to replay for `rerun_trace_id`"),
  413: codeflashError("Request body too large"),
  429: codeflashError("Rate limit exceeded"),
  500: codeflashError("Internal error"),
  502: codeflashError("The model failed or produced nothing usable"),
  503: codeflashError("No model configured, or the client went away"),
  504: codeflashError("The model did not answer in time"),
} as const;

/** Every spelling of a last path segment with `-` and `_` swapped. */
export function spellings(name: string): string[] {
  return [...new Set([name, name.replaceAll("-", "_"), name.replaceAll("_", "-")])];
}

export interface OptimizationServices {
  engine: OptimizationEngine;
  candidates: CandidateService;
  tests: TestgenService;
  assistant: AssistantService;
}

export function registerCodeflashRoutes(
  app: OpenAPIHono<AppEnv>,
  services: AppServices,
  optimization: OptimizationServices,
): void {
  const { candidates, tests, assistant, engine } = optimization;
  const register = <S extends z.ZodType, R extends z.ZodType>(endpoint: Endpoint<S, R>) => {
    const paths = [endpoint.name, ...(endpoint.aliases ?? [])].flatMap(spellings);
    for (const [index, path] of [...new Set(paths)].entries()) {
      const route = protectedRoute(
        services,
        { scope: "inference", rateLimit: "optimization" },
        {
          method: "post",
          path: `/ai/${path}`,
          // The canonical spelling is documented; the others are the same route.
          hide: index > 0,
          tags: ["optimization"],
          summary: endpoint.summary,
          request: {
            body: { required: true, content: { "application/json": { schema: endpoint.request } } },
          },
          responses: {
            ...ERROR_RESPONSES,
            200: {
              description: endpoint.summary,
              content: { "application/json": { schema: endpoint.response } },
            },
          },
        },
      );
      app.openapi(route, async (c) => {
        const body = (c.req.valid as (target: "json") => z.infer<S>)("json");
        const result = await endpoint.handle(body, {
          principalId: c.get("principal").id,
          signal: c.req.raw.signal,
        });
        return c.json(result as object, 200);
      });
    }
  };

  register({
    name: "optimize",
    summary: "Optimization candidates for a function",
    request: optimizeRequestSchema,
    response: optimizationsResponseSchema,
    handle: (body, context) => candidates.optimize(body, context, "optimize"),
  });
  register({
    name: "optimize-line-profiler",
    summary: "Candidates guided by per-line timings",
    request: optimizeRequestSchema,
    response: optimizationsResponseSchema,
    handle: (body, context) => candidates.optimize(body, context, "optimize-line-profiler"),
  });
  register({
    name: "rewrite_jit",
    summary: "JIT rewrite candidates (legacy clients, §6)",
    request: optimizeRequestSchema,
    response: optimizationsResponseSchema,
    handle: (body, context) => candidates.optimize(body, context, "rewrite_jit"),
  });
  register({
    name: "refinement",
    aliases: ["refine"],
    summary: "Refinements of candidates that passed",
    request: refinementRequestSchema,
    response: refinementsResponseSchema,
    handle: (body, context) => candidates.refine(Array.isArray(body) ? body : [body], context),
  });
  register({
    name: "code_repair",
    aliases: ["repair"],
    summary: "Repair of a candidate whose behaviour differed",
    request: codeRepairRequestSchema,
    response: candidateSchema,
    handle: (body, context) => candidates.repair(body, context),
  });
  register({
    name: "adaptive_optimize",
    summary: "A candidate learned from a chain of candidates",
    request: adaptiveOptimizeRequestSchema,
    response: candidateSchema,
    handle: (body, context) => candidates.adaptive(body, context),
  });
  register({
    name: "testgen",
    summary: "Regression tests (instrumented for Python)",
    request: testgenRequestSchema,
    response: testsResponseSchema,
    handle: (body, context) => tests.testgen(body, context),
  });
  register({
    name: "testgen_review",
    summary: "Flag weak generated tests",
    request: testgenReviewRequestSchema,
    response: testgenReviewResponseSchema,
    handle: (body, context) => tests.review(body, context),
  });
  register({
    name: "testgen_repair",
    summary: "Rewrite flagged test functions",
    request: testgenRepairRequestSchema,
    response: testsResponseSchema,
    handle: (body, context) => tests.repair(body, context),
  });
  register({
    name: "explain",
    summary: "Final explanation of the winning candidate",
    request: explainRequestSchema,
    response: explainResponseSchema,
    handle: (body, context) => assistant.explain(body, context),
  });
  register({
    name: "rank",
    summary: "Rank passing candidates, best first",
    request: rankRequestSchema,
    response: rankResponseSchema,
    handle: (body, context) => assistant.rank(body, context),
  });
  register({
    name: "optimization_review",
    summary: "Confidence rating of the winner",
    request: optimizationReviewRequestSchema,
    response: optimizationReviewResponseSchema,
    handle: (body, context) => assistant.review(body, context),
  });
  register({
    name: "log_features",
    summary: "Store measured results (feeds the experiment report)",
    request: logFeaturesRequestSchema,
    response: logFeaturesResponseSchema,
    handle: async (body) => {
      await storeFeatures(engine.repository, body);
      return { stored: true };
    },
  });
  register({
    name: "workflow-gen",
    summary: "GitHub Actions steps that run codeflash",
    request: workflowGenRequestSchema,
    response: workflowGenResponseSchema,
    handle: (body, context) => assistant.workflow(body, context),
  });
}
