import type { PromptTemplate } from "./prompt-template.js";

/** What each operation asks of the model; the selection (if any) says where. */
export const REFACTOR_INSTRUCTIONS: Record<string, string> = {
  extract_variable:
    "Extract the selected expression into a well-named local variable and use it where the expression was.",
  extract_method:
    "Extract the selected statements into a new, well-named function or method and call it where they were.",
  rename:
    "Rename the selected identifier to a clearer name everywhere it refers to the same thing, and change nothing else.",
  optimize_performance: "Make the code faster without changing its behaviour or its public signatures.",
};

export const REFACTOR_PROMPT_V1: PromptTemplate = {
  id: "refactor",
  version: 1,
  system: [
    "You are an expert {{language}} programmer performing one precise refactoring.",
    "Keep every public function name and parameter list unchanged unless the refactoring itself requires it.",
    "Answer with the complete refactored code in one fenced code block tagged `{{language}}`, then one or two sentences explaining the change.",
  ].join(" "),
  user: "Refactoring: {{operation}}\n{{instruction}}\n{{selection_section}}\nCode ({{file_path}}):\n```{{language}}\n{{code}}\n```",
};
