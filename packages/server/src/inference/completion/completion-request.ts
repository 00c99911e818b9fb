import type { GenerationRequest } from "../../engine/providers/provider.js";
import { invalidRequest } from "../../errors.js";
import { samplingFrom } from "../common-schemas.js";
import { COMPLETION_PROMPT_V1 } from "../prompts/completion.v1.js";
import { renderPrompt } from "../prompts/prompt-template.js";
import {
  cutAtStops,
  type DeltaFilter,
  extractInsertion,
  FenceFilter,
  StopFilter,
  trimEchoes,
} from "./answer-cleanup.js";
import { commentLine } from "./comment-syntax.js";
import type { CompletionRequest } from "./completion-schemas.js";

/**
 * Version of how a completion prompt is built (FIM header and instruction template); part of
 * the cache key, so a changed prompt never serves answers cached for the old one.
 */
export const COMPLETION_PROMPT_VERSION = `fim-header.v1+${COMPLETION_PROMPT_V1.id}.v${COMPLETION_PROMPT_V1.version}`;

/** Default `max_tokens`: a completion is a few lines, not an essay. */
const DEFAULT_MAX_TOKENS = 128;

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

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

/**
 * Splits `code` at the cursor. Offsets count UTF-16 code units, as JavaScript strings, LSP and
 * editors do (the same as characters for code without astral characters such as emoji); an
 * offset past the end, or one that would cut a character in half, is the caller's error.
 */
export function splitAtCursor(body: CompletionRequest): { prefix: string; suffix: string } {
  const { code, cursor_position: cursor } = body.context;
  if (cursor > code.length) {
    throw invalidRequest(
      `cursor_position ${cursor} is past the end of the code (${code.length} characters)`,
      [{ path: "context.cursor_position", message: `must be between 0 and ${code.length}` }],
    );
  }
  if (isHighSurrogate(code.charCodeAt(cursor - 1)) && isLowSurrogate(code.charCodeAt(cursor))) {
    throw invalidRequest(`cursor_position ${cursor} falls inside a character`, [
      {
        path: "context.cursor_position",
        message: "must not split a surrogate pair (offsets count UTF-16 code units)",
      },
    ]);
  }
  return { prefix: code.slice(0, cursor), suffix: code.slice(cursor) };
}

/** How one completion request is put to a model and how its answers are read back. */
export interface CompletionPlan {
  fim: boolean;
  /** The neutral request of one sample; extra samples get their own seed. */
  request(seed?: number): GenerationRequest;
  /** The insertion in a sample's raw answer. */
  clean(raw: string): string;
  /** The pipeline a streamed sample's text goes through before the client sees it. */
  deltaFilters(): DeltaFilter[];
}

/**
 * The model's own fill-in-the-middle format when it has one (file path, language and project
 * context as a comment header in the language's syntax), else the instruction prompt.
 *
 * Stop sequences go to a FIM runtime as they are. An instruction model wraps its answer (a fence,
 * a preamble), so a stop such as "```" or "\n" would cut the wrapper instead of the code: there
 * they are applied here, to the code, and the stream is cut as soon as one appears.
 */
export function completionPlan(body: CompletionRequest, fim: boolean): CompletionPlan {
  const { prefix, suffix } = splitAtCursor(body);
  const stops = body.parameters?.stop_sequences ?? [];
  const sampling = samplingFrom(
    { ...body.parameters, stop_sequences: undefined },
    { maxTokens: DEFAULT_MAX_TOKENS },
  );
  const project = projectLine(body);
  const { language, file_path: filePath } = body.context;
  let input: GenerationRequest["input"];
  if (fim) {
    const header =
      (filePath === undefined ? "" : commentLine(language, `file: ${filePath}`)) +
      (project === undefined ? "" : commentLine(language, project));
    input = { kind: "fim", prefix: header + prefix, suffix };
  } else {
    const prompt = renderPrompt(COMPLETION_PROMPT_V1, {
      language,
      file_path: filePath ?? "unnamed",
      project_context: project === undefined ? "" : `Project: ${project}\n`,
      prefix,
      suffix,
    });
    input = {
      kind: "chat",
      messages: [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.user },
      ],
    };
  }
  return {
    fim,
    request: (seed) => ({
      input,
      sampling: {
        ...sampling,
        ...(fim && stops.length > 0 ? { stop: stops } : {}),
        // Extra samples must differ: a seed each, and some temperature unless one was asked for.
        ...(seed === undefined ? {} : { seed, temperature: body.parameters?.temperature ?? 0.7 }),
      },
      logprobs: true,
    }),
    clean: (raw) =>
      fim ? cutAtStops(raw, stops) : cutAtStops(trimEchoes(extractInsertion(raw), prefix, suffix), stops),
    deltaFilters: () => (fim ? [new StopFilter(stops)] : [new FenceFilter(), new StopFilter(stops)]),
  };
}
