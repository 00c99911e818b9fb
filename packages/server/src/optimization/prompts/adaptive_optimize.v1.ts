/** `/ai/adaptive_optimize`: a new candidate that learns from the chain of earlier candidates. */
import { CANDIDATE_CLOSING, candidateSystem, paragraphs, section, templatesFor } from "./template-kit.js";

export const ADAPTIVE_OPTIMIZE_PROMPTS_V1 = templatesFor("adaptive_optimize", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "Below are some {{language}} code and the chain of candidate optimizations tried on it so far, oldest first; each one was derived from the one before it. Each candidate shows its source (OPTIMIZE: first attempt; OPTIMIZE_LP: guided by a line profile; REFINE: refined; REPAIR: repaired after a behaviour mismatch; ADAPTIVE: an earlier attempt like this one), its measured result (performance gain over the original, or a behaviour mismatch), its code and its explanation.",
    section("Original code:", "original_code", "original_source_code"),
    section("Candidates, oldest first:", "candidates", "candidates"),
    [
      "Your task:",
      "- Learn from the chain: which ideas produced the gains, and which changes broke behaviour or did not pay off.",
      "- Write one new candidate that keeps the ideas that worked, avoids the mistakes, and goes further, for example by attacking the part that is still slow with a better algorithm or data structure. It must aim to beat the best candidate of the chain and behave exactly like the original.",
      "- Do not return any candidate of the chain unchanged: identical code is discarded.",
      "- In the explanation, say what you kept from earlier candidates and what is new.",
    ].join("\n"),
    "Files you may rewrite (the paths of the original code):\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
