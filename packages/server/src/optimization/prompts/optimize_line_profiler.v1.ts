/** `/ai/optimize-line-profiler`: candidates guided by the per-line timings of the original. */
import {
  CANDIDATE_CLOSING,
  CANDIDATE_INPUTS,
  candidateSystem,
  paragraphs,
  section,
  templatesFor,
} from "./template-kit.js";

export const OPTIMIZE_LINE_PROFILER_PROMPTS_V1 = templatesFor("optimize_line_profiler", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "Make the function in the code below run faster, guided by where it actually spends its time. Target: {{language}} {{language_version}}.",
    CANDIDATE_INPUTS,
    section(
      "Line profile of the original code, measured on its test inputs (per function: Hits, Time, Per Hit, % Time, Line Contents):",
      "line_profile",
      "line_profiler_results",
    ),
    "Focus on the hot lines: the ones with the largest % Time (and their Hits). Make them cheaper or make them run fewer times: a better algorithm or data structure, work hoisted out of the loop, lookups cached in locals, built-in or vectorized routines. Leave lines that take a negligible share of the time as they are: changing them adds risk without speed.",
    "{{numerical_section}}",
    "Direction for this answer: {{variation}}",
    "Files you may rewrite:\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
