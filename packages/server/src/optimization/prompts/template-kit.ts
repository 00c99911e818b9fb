/**
 * Building blocks of the optimization prompt templates: one builder call yields the four language
 * variants of an endpoint, and the candidate endpoints share their framing and answer format.
 *
 * The texts here may use only `{{fence_tag}}`, `{{file_paths}}` and `{{language}}`, which every
 * candidate endpoint has (PROMPT_VARIABLES); the prompt tests render every template to check it.
 */
import type { PromptTemplate } from "../../inference/prompts/prompt-template.js";
import { CODE_BLOCK_RULES, SPEED_IDIOMS } from "./language-guidance.js";
import { PROMPT_LANGUAGES, type PromptEndpoint, type PromptLanguage } from "./prompt-variables.js";

export interface TemplateText {
  system: string;
  user: string;
}

/** The four language variants of one endpoint's template, ids `<endpoint>.<language>`. */
export function templatesFor(
  endpoint: PromptEndpoint,
  version: number,
  build: (language: PromptLanguage) => TemplateText,
): Record<PromptLanguage, PromptTemplate> {
  const entries = PROMPT_LANGUAGES.map((language): [PromptLanguage, PromptTemplate] => {
    const { system, user } = build(language);
    return [language, { id: `${endpoint}.${language}`, version, system, user }];
  });
  return Object.fromEntries(entries) as Record<PromptLanguage, PromptTemplate>;
}

/** Joins paragraphs with a blank line between them. */
export function paragraphs(...parts: string[]): string {
  return parts.join("\n\n");
}

/** An input section: a short caption, then the value between XML-like tags (works for markdown and plain code). */
export function section(caption: string, tag: string, placeholder: string): string {
  return `${caption}\n<${tag}>\n{{${placeholder}}}\n</${tag}>`;
}

/** The code an endpoint that writes a fresh candidate may rewrite, then its read-only context. */
export const CANDIDATE_INPUTS = paragraphs(
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
);

/** What the model is, and what happens to its answer: shared by every candidate endpoint. */
export function candidateSystem(language: PromptLanguage): string {
  return paragraphs(
    "You are an expert {{language}} performance engineer. You make code faster without changing what it does.",
    "Your answer is processed by a program: the code blocks are parsed, their definitions replace the originals in the user's project, and the project's tests and generated regression tests run against both the original and your version. Any difference in behaviour discards the answer, and so does code that does not parse, is not measurably faster, or is identical to the code it started from.",
    SPEED_IDIOMS[language],
    candidateAnswerFormat(language),
  );
}

/** The exact markdown format of candidate code (protocol §5) and the equivalence rules. */
export function candidateAnswerFormat(language: PromptLanguage): string {
  return [
    "Answer format (follow it exactly; the answer is parsed by a program):",
    "- Give the rewritten code in fenced code blocks whose opening line is exactly ```{{fence_tag}}:<path> : three backticks, the tag {{fence_tag}}, a colon, no space, then the file's path written exactly as in this list of files you may rewrite:",
    "{{file_paths}}",
    "  (A file listed without a path gets a block opened with ```{{fence_tag}} alone.)",
    "- One block per file. Always include the first file, which holds the function being optimized; include another file only if you changed it. Each block is the code of that file as you were given it, with your changes applied, complete: every definition whole, nothing elided with `...` or comments such as `rest unchanged`.",
    `- ${CODE_BLOCK_RULES[language]}`,
    "- Keep the name and signature of every function, method and class you were given (parameters, defaults, return type); callers must not notice the change.",
    "- Keep the behaviour identical: the same return values (type, order, precision), the same exceptions or errors in the same situations, the same side effects (output, logging, I/O, global state) and the same mutation, or non-mutation, of the arguments.",
    "- Write whole, self-contained definitions: new imports at module level at the top of the block, and every new helper function or constant you use defined in the block.",
    "- No other fenced blocks anywhere in the answer: no ```text, ```diff, ```bash, ```json, no untagged ``` fence, no second version of a file. No line inside the code may begin with three backticks (build such strings another way).",
    "- After the code block(s), explain in two to four sentences of plain prose what you changed and why it is faster. No code blocks in the explanation.",
  ].join("\n");
}

/** The closing instruction of a candidate prompt. */
export const CANDIDATE_CLOSING =
  "Answer with the complete code in ```{{fence_tag}}:<path> blocks for the files listed above, then the short explanation.";

/** The closing instruction of a JSON-only prompt. */
export function jsonOnly(shape: string): string {
  return `Answer ONLY with this JSON object: no prose before or after it, no code fence, no comments.\n${shape}`;
}

/** The fence tag of a test file answer (testgen and testgen_repair both have `{{language}}`). */
export function testFence(language: PromptLanguage): string {
  return language === "generic" ? "{{language}}" : language;
}

/** How the target's import line is used; the generic variant allows adapting it to the language. */
export function importRule(language: PromptLanguage): string {
  return language === "generic"
    ? "Reach the code under test with this import, adapted to {{language}} syntax if it is not valid there (Java: import the class; Go: tests in the same package need no import):\n{{import_statement}}"
    : "Import the code under test exactly with this line (keep it verbatim), plus whatever standard modules the tests need:\n{{import_statement}}";
}
