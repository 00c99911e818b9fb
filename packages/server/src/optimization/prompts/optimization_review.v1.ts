/** `/ai/optimization_review`: a high / medium / low confidence rating of the winner (JSON answer). */
import { paragraphs, section, templatesFor, jsonOnly } from "./template-kit.js";

export const OPTIMIZATION_REVIEW_PROMPTS_V1 = templatesFor("optimization_review", 1, () => ({
  system: paragraphs(
    "You are a senior {{language}} reviewer. You rate how safe and worthwhile it is to merge an automatically generated performance optimization. A `low` rating stops the pull request from being opened, so use it when you would advise against merging.",
  ),
  user: paragraphs(
    "Rate this optimization.",
    section("Original code (target file and helper files):", "original_code", "original_code"),
    section("Optimized code:", "optimized_code", "optimized_code"),
    section("Explanation of the change:", "explanation", "explanation"),
    "Measured: original runtime {{original_runtime}}, optimized runtime {{optimized_runtime}}, speed-up {{speedup}}.",
    section("Benchmark results (empty when none):", "benchmarks", "benchmark_details"),
    section(
      "Existing tests that passed on both versions, with timings (empty when none):",
      "existing_tests",
      "existing_tests",
    ),
    section(
      "Generated regression tests that passed on both versions, annotated with timings:",
      "generated_tests",
      "generated_tests",
    ),
    section("Replay tests from real executions (empty when none):", "replay_tests", "replay_tests"),
    "Coverage of the function by the tests: {{coverage_message}}",
    section(
      "Call sites of the function, which show how it is used (empty when none are known):",
      "call_sites",
      "calling_fn_details",
    ),
    [
      "Criteria:",
      "- Correctness evidence: do the existing, generated and replay tests, and the coverage, exercise the behaviour the change touches (edge cases, error paths, ordering, floating point, mutation of arguments, concurrency)? Behaviour that no test covers and that the change could plausibly alter is a serious risk.",
      "- Size of the speed-up: is it large and consistent across tests and benchmarks, or small, noisy or limited to a few inputs?",
      "- Risk of the change: size and complexity of the diff, new dependencies or global state, caches, assumptions about inputs, readability and maintainability.",
      "Ratings:",
      "- high: well evidenced as equivalent (good coverage, meaningful tests), a clear speed-up, and a low-risk, reviewable change;",
      "- medium: probably correct and worthwhile, but the evidence is limited, the speed-up is modest, or the change is moderately complex;",
      "- low: a plausible behaviour change that the tests do not rule out, a negligible or noisy speed-up, or a risky change for its gain.",
    ].join("\n"),
    jsonOnly(
      '{"review": "high" | "medium" | "low", "review_explanation": "<one to three sentences giving the main reasons>"}',
    ),
  ),
}));
