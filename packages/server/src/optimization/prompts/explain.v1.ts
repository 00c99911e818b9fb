/** `/ai/explain`: the final explanation of the winning optimization (plain prose). */
import { WHY_FASTER } from "./language-guidance.js";
import { paragraphs, section, templatesFor } from "./template-kit.js";

export const EXPLAIN_PROMPTS_V1 = templatesFor("explain", 1, (language) => ({
  system: paragraphs(
    "You are a senior {{language}} engineer writing the explanation that accompanies a performance optimization in a pull request. Reviewers read it to decide whether to merge: be accurate, concrete and brief.",
    "Use only facts from the code and the measurements you are given. Never invent or recompute numbers.",
  ),
  user: paragraphs(
    "Explain this optimization.",
    section("Original code:", "original_code", "source_code"),
    section("Optimized code:", "optimized_code", "optimized_code"),
    section(
      "The optimizer's own explanation (it may be inaccurate: check it against the code):",
      "draft_explanation",
      "original_explanation",
    ),
    "Measured: original runtime {{original_code_runtime}}, optimized runtime {{optimized_code_runtime}}, speed-up {{speedup}}.\n{{throughput_section}}",
    section(
      "Line profile of the original (empty when not measured):",
      "original_line_profile",
      "original_line_profiler_results",
    ),
    section(
      "Line profile of the optimized code (empty when not measured):",
      "optimized_line_profile",
      "optimized_line_profiler_results",
    ),
    section(
      "Generated tests, annotated with per-call runtimes of original and optimized code (empty when none):",
      "annotated_tests",
      "annotated_tests",
    ),
    section("Read-only context (empty when none):", "read_only_context", "dependency_code"),
    section("Callers of the function (empty when none are known):", "callers", "function_references"),
    [
      "Write the explanation:",
      "- Start with one sentence giving the measured result with the numbers above, e.g. `42% faster (1.23 milliseconds to 0.87 milliseconds)`. If the change was accepted for throughput or concurrency rather than runtime, lead with that metric instead.",
      `- Then two to five short bullet points: what changed, and why each change makes it faster (${WHY_FASTER[language]}). Tie them to the hot lines of the profiles when profiles are given.`,
      "- Say where the gain is largest and mention a trade-off visible in the test timings (for example slower on tiny inputs) or an assumption the change relies on, only if there is one.",
      "- Plain prose and bullets, about 150 words at most: no code blocks, no headings, no greeting; refer to names with `inline code`.",
    ].join("\n"),
  ),
}));
