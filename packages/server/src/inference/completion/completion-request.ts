import { extractCodeBlocks, languageOf } from "../../code/index.js";
import type { GenerationRequest } from "../../engine/providers/provider.js";
import { invalidRequest } from "../../errors.js";
import { samplingFrom } from "../common-schemas.js";
import { COMPLETION_PROMPT_V1 } from "../prompts/completion.v1.js";
import { renderPrompt } from "../prompts/prompt-template.js";
import type { CompletionRequest } from "./completion-schemas.js";

const HASH_COMMENT = new Set(["python"]);

function commentLine(language: string, text: string): string {
  return `${HASH_COMMENT.has(languageOf(language) ?? language) ? "#" : "//"} ${text}\n`;
}

function projectLine(body: CompletionRequest): string | undefined {
  const project = body.context.project_context;
  const parts = [
    project?.framework === undefined ? undefined : `framework: ${project.framework}`,
    project?.dependencies === undefined || project.dependencies.length === 0
      ? undefined
      : `dependencies: ${project.dependencies.join(", ")}`,
  ].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? undefined : parts.join("; ");
}

/** Splits `code` at the cursor; an offset outside the code is the caller's error. */
export function splitAtCursor(body: CompletionRequest): { prefix: string; suffix: string } {
  const { code, cursor_position: cursor } = body.context;
  if (cursor > code.length) {
    throw invalidRequest(
      `cursor_position ${cursor} is past the end of the code (${code.length} characters)`,
      [{ path: "context.cursor_position", message: `must be between 0 and ${code.length}` }],
    );
  }
  return { prefix: code.slice(0, cursor), suffix: code.slice(cursor) };
}

/**
 * The neutral request for a completion: the model's own fill-in-the-middle format when it has
 * one (file path, language and project context as a comment header), else an instruction prompt.
 */
export function completionRequest(body: CompletionRequest, fim: boolean, seed?: number): GenerationRequest {
  const { prefix, suffix } = splitAtCursor(body);
  const sampling = {
    ...samplingFrom(body.parameters, { maxTokens: 128 }),
    ...(seed === undefined ? {} : { seed, temperature: body.parameters?.temperature ?? 0.7 }),
  };
  const project = projectLine(body);
  if (fim) {
    const header =
      (body.context.file_path === undefined
        ? ""
        : commentLine(body.context.language, `file: ${body.context.file_path}`)) +
      (project === undefined ? "" : commentLine(body.context.language, project));
    return { input: { kind: "fim", prefix: header + prefix, suffix }, sampling, logprobs: true };
  }
  const prompt = renderPrompt(COMPLETION_PROMPT_V1, {
    language: body.context.language,
    file_path: body.context.file_path ?? "unnamed",
    project_context: project === undefined ? "" : `Project: ${project}\n`,
    prefix,
    suffix,
  });
  return {
    input: {
      kind: "chat",
      messages: [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.user },
      ],
    },
    sampling,
    logprobs: true,
  };
}

/** Instruction models sometimes fence their answer anyway; keep only the code. */
export function completionText(raw: string, fim: boolean): string {
  if (fim) return raw;
  const { blocks } = extractCodeBlocks(raw);
  return blocks[0]?.code ?? raw.replace(/^\s*```[\w:./-]*\n?|```\s*$/g, "");
}
