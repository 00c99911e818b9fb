/**
 * The contract between the optimization service and its prompt templates: which `{{name}}`
 * placeholders each endpoint's prompt may use. The service fills exactly these (empty string
 * when the request has nothing for one), so a template can never ask for a value that is not
 * there — renderPrompt throws on an unknown placeholder and the prompt tests render every
 * template with these names.
 */
export const PROMPT_VARIABLES = {
  optimize: [
    "language", // python | javascript | typescript | java | go
    "language_version", // "3.12.4", "20.11.1" or "unknown"
    "fence_tag", // the tag the answer's blocks must use (e.g. python)
    "file_paths", // the read-writable files, one per line
    "source_code", // the read-writable code, markdown blocks ```tag:path
    "dependency_code", // read-only context ("" when none)
    "async_note", // a sentence when the function is async, else ""
    "numerical_section", // JIT / vectorization guidance when is_numerical_code, else ""
    "variation", // a short hint that differs per candidate so samples explore different ideas
  ],
  optimize_line_profiler: [
    "language",
    "language_version",
    "fence_tag",
    "file_paths",
    "source_code",
    "dependency_code",
    "line_profiler_results",
    "numerical_section",
    "variation",
  ],
  refinement: [
    "language",
    "language_version",
    "fence_tag",
    "file_paths",
    "original_source_code",
    "dependency_code",
    "original_line_profiler_results",
    "original_code_runtime",
    "optimized_source_code",
    "optimized_explanation",
    "optimized_line_profiler_results",
    "optimized_code_runtime",
    "speedup",
    "function_references",
  ],
  code_repair: [
    "language",
    "fence_tag",
    "file_paths",
    "original_source_code",
    "modified_source_code",
    "test_diffs", // rendered, one section per diff
  ],
  adaptive_optimize: [
    "language",
    "fence_tag",
    "file_paths",
    "original_source_code",
    "candidates", // rendered chain, oldest first, with source, speedup and explanation
  ],
  testgen: [
    "language",
    "language_version",
    "test_framework", // pytest | unittest | jest | vitest | mocha | junit5 | ...
    "function_name",
    "qualified_name",
    "source_code", // the function and its helpers (markdown)
    "helper_function_names",
    "import_statement", // the exact import line(s) the tests must use
    "async_note",
    "numerical_section",
    "test_timeout",
    "variation", // differs per test_index so the two files cover different ground
  ],
  testgen_review: [
    "language",
    "function_name",
    "function_source_code",
    "tests", // rendered test files with index, failures and failure messages
    "coverage",
  ],
  testgen_repair: [
    "language",
    "test_framework",
    "function_name",
    "function_source_code",
    "module_source_code",
    "import_statement",
    "test_source",
    "functions_to_repair", // rendered list of name: reason
    "previous_repair_errors",
    "coverage",
  ],
  explain: [
    "language",
    "source_code",
    "optimized_code",
    "original_explanation",
    "original_code_runtime",
    "optimized_code_runtime",
    "speedup",
    "original_line_profiler_results",
    "optimized_line_profiler_results",
    "throughput_section",
    "annotated_tests",
    "dependency_code",
    "function_references",
  ],
  rank: [
    "candidates", // rendered: index, speedup, diff
    "function_references",
    "count", // number of candidates
  ],
  optimization_review: [
    "language",
    "original_code",
    "optimized_code",
    "explanation",
    "speedup",
    "original_runtime",
    "optimized_runtime",
    "existing_tests",
    "generated_tests",
    "replay_tests",
    "coverage_message",
    "benchmark_details",
    "calling_fn_details",
  ],
  workflow_gen: [
    "repo_files", // rendered: path + content excerpt per file
    "directory_structure",
    "codeflash_config",
  ],
} as const;

export type PromptEndpoint = keyof typeof PROMPT_VARIABLES;
export type PromptValues<E extends PromptEndpoint> = Record<(typeof PROMPT_VARIABLES)[E][number], string>;

/** Prompt languages: the three first-class ones, and a generic prompt for java, go and others. */
export const PROMPT_LANGUAGES = ["python", "javascript", "typescript", "generic"] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];

/** A request value as a prompt value: absent or null is `fallback` ("" by default). */
export function promptText(value: string | number | null | undefined, fallback = ""): string {
  return value === null || value === undefined ? fallback : String(value);
}
