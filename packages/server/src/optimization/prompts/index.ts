/**
 * The versioned prompt templates of the codeflash endpoints: one module per endpoint and version,
 * each with a variant per prompt language. `optimization.prompt_version` (or an experiment
 * variant's) picks the version; a version an endpoint does not have is a configuration error.
 */
import type { PromptTemplate } from "../../inference/prompts/prompt-template.js";
import { languageOf } from "../../code/languages.js";
import { ADAPTIVE_OPTIMIZE_PROMPTS_V1 } from "./adaptive_optimize.v1.js";
import { CODE_REPAIR_PROMPTS_V1 } from "./code_repair.v1.js";
import { EXPLAIN_PROMPTS_V1 } from "./explain.v1.js";
import { OPTIMIZATION_REVIEW_PROMPTS_V1 } from "./optimization_review.v1.js";
import { OPTIMIZE_PROMPTS_V1 } from "./optimize.v1.js";
import { OPTIMIZE_LINE_PROFILER_PROMPTS_V1 } from "./optimize_line_profiler.v1.js";
import {
  PROMPT_LANGUAGES,
  PROMPT_VARIABLES,
  type PromptEndpoint,
  type PromptLanguage,
} from "./prompt-variables.js";
import { RANK_PROMPTS_V1 } from "./rank.v1.js";
import { REFINEMENT_PROMPTS_V1 } from "./refinement.v1.js";
import { TESTGEN_PROMPTS_V1 } from "./testgen.v1.js";
import { TESTGEN_REPAIR_PROMPTS_V1 } from "./testgen_repair.v1.js";
import { TESTGEN_REVIEW_PROMPTS_V1 } from "./testgen_review.v1.js";
import { WORKFLOW_GEN_PROMPTS_V1 } from "./workflow_gen.v1.js";

export { NUMERICAL_GUIDANCE } from "./language-guidance.js";
export {
  PROMPT_LANGUAGES,
  PROMPT_VARIABLES,
  type PromptEndpoint,
  type PromptLanguage,
  type PromptValues,
} from "./prompt-variables.js";

type Versions = Readonly<Record<number, Readonly<Record<PromptLanguage, PromptTemplate>>>>;

/** Every endpoint's templates by version; add a `<endpoint>.v2.ts` module and list it here. */
const TEMPLATES: { readonly [E in PromptEndpoint]: Versions } = {
  optimize: { 1: OPTIMIZE_PROMPTS_V1 },
  optimize_line_profiler: { 1: OPTIMIZE_LINE_PROFILER_PROMPTS_V1 },
  refinement: { 1: REFINEMENT_PROMPTS_V1 },
  code_repair: { 1: CODE_REPAIR_PROMPTS_V1 },
  adaptive_optimize: { 1: ADAPTIVE_OPTIMIZE_PROMPTS_V1 },
  testgen: { 1: TESTGEN_PROMPTS_V1 },
  testgen_review: { 1: TESTGEN_REVIEW_PROMPTS_V1 },
  testgen_repair: { 1: TESTGEN_REPAIR_PROMPTS_V1 },
  explain: { 1: EXPLAIN_PROMPTS_V1 },
  rank: { 1: RANK_PROMPTS_V1 },
  optimization_review: { 1: OPTIMIZATION_REVIEW_PROMPTS_V1 },
  workflow_gen: { 1: WORKFLOW_GEN_PROMPTS_V1 },
};

function versionsOf(endpoint: PromptEndpoint): Versions {
  if (!Object.hasOwn(TEMPLATES, endpoint)) {
    throw new Error(
      `unknown prompt endpoint ${JSON.stringify(endpoint)} (known: ${Object.keys(PROMPT_VARIABLES).join(", ")})`,
    );
  }
  return TEMPLATES[endpoint];
}

/** The versions an endpoint's templates exist in, ascending. */
export function promptVersions(endpoint: PromptEndpoint): number[] {
  return Object.keys(versionsOf(endpoint))
    .map(Number)
    .sort((a, b) => a - b);
}

/** The template of an endpoint for a prompt language; the latest version when `version` is omitted. */
export function promptTemplate(
  endpoint: PromptEndpoint,
  language: PromptLanguage,
  version?: number,
): PromptTemplate {
  const versions = versionsOf(endpoint);
  const known = promptVersions(endpoint);
  const chosen = version ?? (known.at(-1) as number);
  const byLanguage = Object.hasOwn(versions, chosen) ? versions[chosen] : undefined;
  if (byLanguage === undefined) {
    throw new Error(
      `prompt ${endpoint}: no version ${String(chosen)} (available: ${known.join(", ")}); check optimization.prompt_version`,
    );
  }
  if (!Object.hasOwn(byLanguage, language)) {
    throw new Error(
      `prompt ${endpoint} v${chosen}: no template for language ${JSON.stringify(language)} (known: ${PROMPT_LANGUAGES.join(", ")})`,
    );
  }
  return byLanguage[language];
}

/** The prompt language of a request's language: python, javascript and typescript (with their dialects), else generic. */
export function promptLanguageOf(language: string | null | undefined): PromptLanguage {
  if (language === null || language === undefined) return "generic";
  switch (languageOf(language)) {
    case "python":
      return "python";
    case "javascript":
    case "jsx":
      return "javascript";
    case "typescript":
    case "tsx":
      return "typescript";
    default:
      return "generic";
  }
}
