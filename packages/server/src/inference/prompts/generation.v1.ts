import type { PromptTemplate } from "./prompt-template.js";

export const GENERATION_PROMPT_V1: PromptTemplate = {
  id: "generation",
  version: 1,
  system: [
    "You are an expert {{language}} programmer.",
    "Write correct, idiomatic, complete code for the request.",
    "Answer with the code in one fenced code block tagged `{{language}}`, followed by at most three sentences of explanation.",
  ].join(" "),
  user: "{{request}}\n\n{{existing_code_section}}",
};
