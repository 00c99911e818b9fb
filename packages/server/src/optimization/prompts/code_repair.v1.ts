/** `/ai/code_repair`: fix the behaviour differences of a fast candidate, keeping its speed-up. */
import { CANDIDATE_CLOSING, candidateSystem, paragraphs, section, templatesFor } from "./template-kit.js";

export const CODE_REPAIR_PROMPTS_V1 = templatesFor("code_repair", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "A faster candidate version of this {{language}} code behaves differently from the original in some tests. Repair it.",
    section("Original code (the reference behaviour):", "original_code", "original_source_code"),
    section("Candidate code (faster, but not equivalent):", "candidate_code", "modified_source_code"),
    section("Behaviour differences found by the tests:", "test_diffs", "test_diffs"),
    "How to read them: scope return_value means the function returned something different (for Python the values are the repr of the recorded (args, kwargs, return value) tuple and may be cut off with `...`); stdout means the printed output differed; did_pass means a test passed on one version and failed on the other (see the error text).",
    [
      "Your task:",
      "- Start from the candidate, not from the original, and keep its speed-up.",
      "- Find the cause of every difference listed above and fix it, so that the candidate behaves exactly like the original on all inputs, not only on the ones shown. Do not special-case the test inputs.",
      "- Change as little of the candidate as possible. If an optimization cannot be kept correct for some inputs, keep it for the common case and fall back to the original logic for the others.",
      "- In the explanation, say what caused the difference, how you fixed it, and why the result is still faster than the original.",
    ].join("\n"),
    "Files you may rewrite:\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
