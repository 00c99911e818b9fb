/**
 * Language tools shared by the optimization API and /v1/ai inference: languages, markdown code
 * blocks, syntax checks, outlines, normalization and refactor safety checks.
 */
export {
  type CodeBlock,
  type ExtractedCode,
  type ExtractOptions,
  extractCodeBlocks,
  type RenderableBlock,
  renderCodeBlock,
  renderCodeBlocks,
} from "./code-blocks.js";
export { type IdentifierOccurrence, identifierOccurrences } from "./identifiers.js";
export {
  extensionsOf,
  isJavaScriptFamily,
  isLanguage,
  type Language,
  LANGUAGES,
  languageOf,
  languageOfExtension,
} from "./languages.js";
export { normalizeCode } from "./normalize.js";
export {
  type PythonCompileResult,
  PythonCompileWorker,
  PythonUnavailableError,
  PythonWorkerError,
  type PythonWorkerOptions,
} from "./python-worker.js";
export {
  type RefactorOperation,
  type RefactorSafety,
  type RefactorSafetyInput,
  refactorSafetyChecks,
  type SafetyCheck,
  type SelectionRange,
} from "./refactor-safety.js";
export {
  type FunctionDefinition,
  type FunctionSignature,
  findFunction,
  functionSignatures,
} from "./signatures.js";
export { checkSyntax, closePythonWorker, type SyntaxCheckOptions } from "./syntax-check.js";
export type { SyntaxCheck, SyntaxDiagnostic } from "./syntax-result.js";
export { type CodeToken, codeTokens } from "./tokens.js";
export {
  CandidateDeduper,
  cleanExplanation,
  type DroppedCandidate,
  type DropReason,
  type SalvageContext,
  type SalvagedCandidate,
  salvageCandidate,
} from "./candidate-salvage.js";
export { type ClientBlock, clientPathKey, parseClientMarkdown } from "./candidate-markdown.js";
export { signatureChange } from "./candidate-functions.js";
