/**
 * Request and response shapes of the codeflash protocol (spec/codeflash-protocol.md §2–3).
 * Requests are tolerant as §9.13 asks: unknown fields are dropped, every field the client may
 * send as null is nullable, and only what a call cannot work without is required. Responses are
 * exact: the client indexes them without guards.
 */
import { z } from "@hono/zod-openapi";

const text = z.string().max(2_000_000);
const maybeText = text.nullish();
const maybeInt = z.number().int().nullish();
const maybeBool = z.boolean().nullish();

const experimentMetadata = z
  .object({ id: z.string().max(256).nullish(), group: z.string().max(64).nullish() })
  .nullish();

/** Fields every candidate-producing call may carry. */
const callCommon = {
  trace_id: z.string().min(1).max(256),
  language: z.string().max(32).nullish(),
  language_version: maybeText,
  /** Older clients' name for language_version. */
  python_version: maybeText,
  codeflash_version: maybeText,
  call_sequence: maybeInt,
  rerun_trace_id: z.string().max(256).nullish(),
  experiment_metadata: experimentMetadata,
};

export const optimizeRequestSchema = z
  .object({
    ...callCommon,
    source_code: text,
    dependency_code: maybeText,
    n_candidates: z.number().int().min(0).max(1000).nullish(),
    is_async: maybeBool,
    is_numerical_code: maybeBool,
    line_profiler_results: maybeText,
    current_username: maybeText,
    repo_owner: maybeText,
    repo_name: maybeText,
    module_system: maybeText,
  })
  .openapi("OptimizeRequest");
export type OptimizeRequest = z.infer<typeof optimizeRequestSchema>;

export const refinementItemSchema = z
  .object({
    ...callCommon,
    optimization_id: z.string().min(1).max(256),
    original_source_code: text,
    read_only_dependency_code: maybeText,
    original_line_profiler_results: maybeText,
    original_code_runtime: maybeText,
    optimized_source_code: text,
    optimized_explanation: maybeText,
    optimized_line_profiler_results: maybeText,
    optimized_code_runtime: maybeText,
    speedup: z.union([z.string(), z.number()]).nullish(),
    function_references: maybeText,
    additional_context_files: z.record(z.string(), z.string()).nullish(),
  })
  .openapi("RefinementItem");
export type RefinementItem = z.infer<typeof refinementItemSchema>;

/** The client sends an array; the seed's `/ai/refine` may send one object. */
export const refinementRequestSchema = z
  .union([z.array(refinementItemSchema).min(1).max(32), refinementItemSchema])
  .openapi("RefinementRequest");

const testDiffSchema = z.object({
  scope: z.string().max(64).nullish(),
  original_pass: maybeBool,
  candidate_pass: maybeBool,
  original_value: maybeText,
  candidate_value: maybeText,
  test_src_code: maybeText,
  candidate_pytest_error: maybeText,
  original_pytest_error: maybeText,
});
export type TestDiff = z.infer<typeof testDiffSchema>;

export const codeRepairRequestSchema = z
  .object({
    ...callCommon,
    optimization_id: z.string().min(1).max(256),
    original_source_code: text,
    modified_source_code: text,
    test_diffs: z.array(testDiffSchema).max(1000).nullish(),
  })
  .openapi("CodeRepairRequest");
export type CodeRepairRequest = z.infer<typeof codeRepairRequestSchema>;

const adaptiveCandidateSchema = z.object({
  optimization_id: z.string().min(1).max(256),
  source_code: text,
  explanation: maybeText,
  source: z.string().max(64).nullish(),
  speedup: maybeText,
});

export const adaptiveOptimizeRequestSchema = z
  .object({
    ...callCommon,
    original_source_code: text,
    candidates: z.array(adaptiveCandidateSchema).min(1).max(64),
  })
  .openapi("AdaptiveOptimizeRequest");
export type AdaptiveOptimizeRequest = z.infer<typeof adaptiveOptimizeRequestSchema>;

const functionToOptimizeSchema = z.object({
  function_name: z.string().min(1).max(512),
  file_path: maybeText,
  parents: z.array(z.object({ name: z.string().max(512), type: z.string().max(64).nullish() })).nullish(),
  starting_line: maybeInt,
  ending_line: maybeInt,
  is_async: maybeBool,
  is_method: maybeBool,
  language: z.string().max(32).nullish(),
});
export type FunctionToOptimize = z.infer<typeof functionToOptimizeSchema>;

const testgenCommon = {
  ...callCommon,
  function_to_optimize: functionToOptimizeSchema,
  helper_function_names: z.array(z.string().max(1024)).max(1000).nullish(),
  module_path: z.string().max(4096).nullish(),
  test_module_path: z.string().max(4096).nullish(),
  test_framework: z.string().max(64).nullish(),
  test_timeout: z.number().nullish(),
  is_async: maybeBool,
  is_numerical_code: maybeBool,
  class_name: maybeText,
  qualified_name: maybeText,
  module_system: maybeText,
};

export const testgenRequestSchema = z
  .object({ ...testgenCommon, source_code_being_tested: text, test_index: maybeInt })
  .openapi("TestgenRequest");
export type TestgenRequest = z.infer<typeof testgenRequestSchema>;

export const testgenRepairRequestSchema = z
  .object({
    ...testgenCommon,
    test_source: text,
    functions_to_repair: z
      .array(z.object({ function_name: z.string().max(1024), reason: maybeText }))
      .max(1000)
      .nullish(),
    function_source_code: maybeText,
    module_source_code: maybeText,
    coverage_details: z.unknown().optional(),
    previous_repair_errors: z.record(z.string(), z.string().nullable()).nullish(),
  })
  .openapi("TestgenRepairRequest");
export type TestgenRepairRequest = z.infer<typeof testgenRepairRequestSchema>;

export const testgenReviewRequestSchema = z
  .object({
    ...callCommon,
    tests: z
      .array(
        z.object({
          test_source: text,
          test_index: z.number().int().min(0),
          failed_test_functions: z.array(z.string().max(1024)).nullish(),
          failure_messages: z.record(z.string(), z.string().nullable()).nullish(),
        }),
      )
      .max(100),
    function_source_code: maybeText,
    function_name: z.string().max(512).nullish(),
    coverage_summary: maybeText,
    coverage_details: z.unknown().optional(),
  })
  .openapi("TestgenReviewRequest");
export type TestgenReviewRequest = z.infer<typeof testgenReviewRequestSchema>;

export const explainRequestSchema = z
  .object({
    ...callCommon,
    source_code: text,
    optimized_code: text,
    original_line_profiler_results: maybeText,
    optimized_line_profiler_results: maybeText,
    original_code_runtime: maybeText,
    optimized_code_runtime: maybeText,
    speedup: z.union([z.string(), z.number()]).nullish(),
    annotated_tests: maybeText,
    optimization_id: maybeText,
    original_explanation: maybeText,
    dependency_code: maybeText,
    original_throughput: maybeText,
    optimized_throughput: maybeText,
    throughput_improvement: maybeText,
    function_references: maybeText,
    acceptance_reason: maybeText,
    original_concurrency_ratio: maybeText,
    optimized_concurrency_ratio: maybeText,
    concurrency_improvement: maybeText,
  })
  .openapi("ExplainRequest");
export type ExplainRequest = z.infer<typeof explainRequestSchema>;

export const rankRequestSchema = z
  .object({
    trace_id: z.string().min(1).max(256),
    diffs: z.array(text).min(1).max(256),
    // NaN/Infinity from Python arrive as null (lenient JSON): no known speedup.
    speedups: z.array(z.number().nullable()).max(256).nullish(),
    optimization_ids: z.array(z.string().max(256)).max(256).nullish(),
    function_references: maybeText,
    language: z.string().max(32).nullish(),
  })
  .openapi("RankRequest");
export type RankRequest = z.infer<typeof rankRequestSchema>;

export const optimizationReviewRequestSchema = z
  .object({
    ...callCommon,
    original_code: text,
    optimized_code: text,
    explanation: maybeText,
    existing_tests: maybeText,
    generated_tests: maybeText,
    coverage_message: maybeText,
    replay_tests: maybeText,
    speedup: z.union([z.string(), z.number()]).nullish(),
    loop_count: z.number().nullish(),
    benchmark_details: z.array(z.record(z.string(), z.unknown())).nullish(),
    optimized_runtime: maybeText,
    original_runtime: maybeText,
    calling_fn_details: maybeText,
  })
  .openapi("OptimizationReviewRequest");
export type OptimizationReviewRequest = z.infer<typeof optimizationReviewRequestSchema>;

const idMap = <T extends z.ZodType>(value: T) => z.record(z.string(), value).nullish();

export const logFeaturesRequestSchema = z
  .object({
    trace_id: z.string().min(1).max(256),
    speedup_ratio: idMap(z.number().nullable()),
    original_runtime: z.number().nullish(),
    optimized_runtime: idMap(z.number().nullable()),
    is_correct: idMap(z.boolean().nullable()),
    codeflash_version: maybeText,
    optimized_line_profiler_results: idMap(z.string().nullable()),
    metadata: z.object({ best_optimization_id: z.string().max(256).nullish() }).nullish(),
    optimizations_post: idMap(z.string().nullable()),
  })
  .openapi("LogFeaturesRequest");
export type LogFeaturesRequest = z.infer<typeof logFeaturesRequestSchema>;

export const workflowGenRequestSchema = z
  .object({
    repo_files: z.record(z.string(), z.string().nullable()).nullish(),
    directory_structure: z.unknown().optional(),
    codeflash_config: z.record(z.string(), z.unknown()).nullish(),
    trace_id: z.string().max(256).nullish(),
  })
  .openapi("WorkflowGenRequest");
export type WorkflowGenRequest = z.infer<typeof workflowGenRequestSchema>;

// ---- responses ----

export const candidateSchema = z
  .object({
    source_code: z.string().openapi({ description: "Markdown code blocks, ```lang:path, one per file" }),
    explanation: z.string(),
    optimization_id: z.string().openapi({ description: "A fresh UUID" }),
    parent_id: z.string().nullable(),
    model: z.string(),
  })
  .openapi("OptimizationCandidate");
export type Candidate = z.infer<typeof candidateSchema>;

export const optimizationsResponseSchema = z
  .object({ optimizations: z.array(candidateSchema) })
  .openapi("OptimizationsResponse");
export const refinementsResponseSchema = z
  .object({ refinements: z.array(candidateSchema) })
  .openapi("RefinementsResponse");
export const testsResponseSchema = z
  .object({
    generated_tests: z.string(),
    instrumented_behavior_tests: z.string(),
    instrumented_perf_tests: z.string(),
    raw_generated_tests: z.string().nullable().optional(),
  })
  .openapi("GeneratedTests");
export const testgenReviewResponseSchema = z
  .object({
    reviews: z.array(
      z.object({
        test_index: z.number().int(),
        functions: z.array(z.object({ function_name: z.string(), reason: z.string() })),
      }),
    ),
  })
  .openapi("TestgenReviewResponse");
export type TestgenReview = z.infer<typeof testgenReviewResponseSchema>;
export const explainResponseSchema = z.object({ explanation: z.string() }).openapi("ExplainResponse");
export const rankResponseSchema = z.object({ ranking: z.array(z.number().int()) }).openapi("RankResponse");
export const optimizationReviewResponseSchema = z
  .object({ review: z.enum(["high", "medium", "low"]), review_explanation: z.string() })
  .openapi("OptimizationReviewResponse");
export const logFeaturesResponseSchema = z.object({ stored: z.boolean() }).openapi("LogFeaturesResponse");
export const workflowGenResponseSchema = z
  .object({ workflow_steps: z.string() })
  .openapi("WorkflowGenResponse");

export const codeflashErrorSchema = z
  .object({
    error: z.string().openapi({ description: "Human-readable message (the client logs it)" }),
    code: z.string(),
    request_id: z.string(),
  })
  .openapi("CodeflashError");
