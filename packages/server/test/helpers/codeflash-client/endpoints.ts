/**
 * The endpoint names a test may pass: the real client paths (`/ai/optimize-line-profiler`),
 * either separator in the last segment, and the seed aliases of the protocol's section 7.
 */

/** The endpoints as the real client spells them (plus the legacy `rewrite_jit`). */
export type Endpoint =
  | "optimize"
  | "optimize-line-profiler"
  | "refinement"
  | "code_repair"
  | "adaptive_optimize"
  | "rewrite_jit"
  | "testgen"
  | "testgen_review"
  | "testgen_repair"
  | "explain"
  | "rank"
  | "optimization_review"
  | "log_features"
  | "workflow-gen";

/** Endpoints answering candidate objects (section 4). */
export type CandidateEndpoint = Extract<
  Endpoint,
  "optimize" | "optimize-line-profiler" | "refinement" | "code_repair" | "adaptive_optimize" | "rewrite_jit"
>;

const BY_KEY: Record<string, Endpoint> = {
  optimize: "optimize",
  optimize_line_profiler: "optimize-line-profiler",
  refinement: "refinement",
  refine: "refinement",
  code_repair: "code_repair",
  repair: "code_repair",
  adaptive_optimize: "adaptive_optimize",
  rewrite_jit: "rewrite_jit",
  testgen: "testgen",
  testgen_review: "testgen_review",
  testgen_repair: "testgen_repair",
  explain: "explain",
  rank: "rank",
  optimization_review: "optimization_review",
  log_features: "log_features",
  workflow_gen: "workflow-gen",
};

/** `"/ai/optimize_line_profiler"`, `"optimize-line-profiler"`, `"/ai/refine"` → the real name. */
export function canonicalEndpoint(name: string): Endpoint {
  const key = name
    .trim()
    .replace(/^\/+/, "")
    .replace(/^ai\//, "")
    .replace(/\/+$/, "")
    .toLowerCase()
    .replaceAll("-", "_");
  const endpoint = BY_KEY[key];
  if (endpoint === undefined)
    throw new Error(`codeflash client checker: unknown endpoint ${JSON.stringify(name)}`);
  return endpoint;
}

export function isCandidateEndpoint(endpoint: Endpoint): endpoint is CandidateEndpoint {
  return (
    endpoint === "optimize" ||
    endpoint === "optimize-line-profiler" ||
    endpoint === "refinement" ||
    endpoint === "code_repair" ||
    endpoint === "adaptive_optimize" ||
    endpoint === "rewrite_jit"
  );
}
