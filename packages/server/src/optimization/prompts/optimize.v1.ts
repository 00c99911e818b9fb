/** `/ai/optimize`: the first batch of candidates, one sample per `{{variation}}`. */
import { CANDIDATE_CLOSING, candidateSystem, paragraphs, section, templatesFor } from "./template-kit.js";

export const OPTIMIZE_PROMPTS_V1 = templatesFor("optimize", 1, (language) => ({
  system: candidateSystem(language),
  user: paragraphs(
    "Make the function in the code below run faster. Target: {{language}} {{language_version}}.",
    section(
      "Code you may rewrite (markdown blocks, each tagged with its file path; the first holds the function to optimize):",
      "code",
      "source_code",
    ),
    section(
      "Read-only context: definitions the code uses, for reference only; do not rewrite them (empty when there is none):",
      "read_only_context",
      "dependency_code",
    ),
    "{{async_note}}\n{{numerical_section}}",
    "Direction for this answer: {{variation}}",
    "Files you may rewrite:\n{{file_paths}}",
    CANDIDATE_CLOSING,
  ),
}));
