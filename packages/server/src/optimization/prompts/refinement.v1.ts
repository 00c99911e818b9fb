/** `/ai/refinement`: a smaller, cleaner and faster version of a candidate that passed the tests. */
import { CANDIDATE_CLOSING, candidateSystem, paragraphs, section, templatesFor } from "./template-kit.js";

export const REFINEMENT_PROMPTS_V1 = templatesFor("refinement", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "An optimized version of this {{language}} code ({{language_version}}) passed all behaviour tests and is faster than the original. Refine it.",
    section("Original code:", "original_code", "original_source_code"),
    "Original runtime: {{original_code_runtime}}",
    section(
      "Line profile of the original (empty when not measured):",
      "original_line_profile",
      "original_line_profiler_results",
    ),
    section("Optimized code (passed the tests):", "optimized_code", "optimized_source_code"),
    "Optimized runtime: {{optimized_code_runtime}} (speed-up over the original: {{speedup}})",
    section("The optimizer's explanation of its change:", "optimized_explanation", "optimized_explanation"),
    section(
      "Line profile of the optimized code (empty when not measured):",
      "optimized_line_profile",
      "optimized_line_profiler_results",
    ),
    section(
      "Read-only context: definitions the code uses, for reference only (empty when there is none):",
      "read_only_context",
      "dependency_code",
    ),
    section(
      "Callers of the function, which show its typical inputs (empty when none are known):",
      "callers",
      "function_references",
    ),
    [
      "Write a refined version of the optimized code that:",
      "1. keeps the changes that produce the speed-up and drops those that do not pay off: cosmetic edits, renamed variables, reformatting, rewritten comments or docstrings, needless helpers, micro-optimizations of lines that are not hot (compare the two profiles);",
      "2. stays as close to the original code as the speed-up allows, so the diff against the original is small and easy to review: restore the original's names, comments, docstrings and structure wherever the optimization does not need them changed;",
      "3. is at least as fast, and faster where the optimized profile still shows hot lines;",
      "4. behaves exactly like the original.",
      "An answer identical to the optimized code is discarded: make a real improvement in size or speed.",
    ].join("\n"),
    "Files you may rewrite (the paths of the original code):\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
