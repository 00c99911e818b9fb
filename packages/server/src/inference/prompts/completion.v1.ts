import type { PromptTemplate } from "./prompt-template.js";

/** For models without fill-in-the-middle: an instruction to write only the missing code. */
export const COMPLETION_PROMPT_V1: PromptTemplate = {
  id: "completion",
  version: 1,
  system: [
    "You are a code completion engine for {{language}}.",
    "Reply with only the code to insert at <CURSOR>: no explanation, no repetition of the surrounding code, no code fences.",
  ].join(" "),
  user: "File: {{file_path}}\n{{project_context}}\n{{prefix}}<CURSOR>{{suffix}}",
};
