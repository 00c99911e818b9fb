/** `/ai/optimize`: the first batch of candidates, one sample per `{{variation}}`. */
import {
  CANDIDATE_CLOSING,
  CANDIDATE_INPUTS,
  candidateSystem,
  paragraphs,
  templatesFor,
} from "./template-kit.js";

export const OPTIMIZE_PROMPTS_V1 = templatesFor("optimize", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "Make the function in the code below run faster. Target: {{language}} {{language_version}}.",
    CANDIDATE_INPUTS,
    "{{async_note}}\n{{numerical_section}}",
    "Direction for this answer: {{variation}}",
    "Files you may rewrite:\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
