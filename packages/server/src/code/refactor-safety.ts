/**
 * Safety checks on a refactoring (spec/ai-api.md "Inference", refactor), all with real parsers:
 * the result parses; the public signatures outside the selection are unchanged; and for a
 * rename, the new name was free, every occurrence of the old name became the new one, and
 * nothing else changed. `score` is the share of checks that passed.
 */
import type { Language } from "./languages.js";
import { type Definition, definitions } from "./signatures.js";
import { checkSyntax, type SyntaxCheckOptions } from "./syntax-check.js";
import type { SyntaxCheck } from "./syntax-result.js";
import { type CodeToken, codeTokens } from "./tokens.js";

export type RefactorOperation = "extract_variable" | "extract_method" | "rename" | "optimize_performance";

/** A range of the original code: character offsets (end exclusive), or 1-based inclusive lines. */
export interface SelectionRange {
  start: number;
  end: number;
  unit?: "offset" | "line";
}

export interface RefactorSafetyInput {
  original: string;
  refactored: string;
  language: Language;
  operation: RefactorOperation;
  selection?: SelectionRange;
  rename?: { from: string; to: string };
  /** Passed to `checkSyntax` (which Python worker to use). */
  syntax?: SyntaxCheckOptions;
}

export interface SafetyCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface RefactorSafety {
  checks: SafetyCheck[];
  /** Passed checks / all checks, in [0, 1]. */
  score: number;
}

function selectionOffsets(code: string, selection: SelectionRange): { start: number; end: number } {
  if (selection.unit !== "line") return { start: selection.start, end: selection.end };
  const lineStarts = [0];
  for (let index = code.indexOf("\n"); index !== -1; index = code.indexOf("\n", index + 1)) {
    lineStarts.push(index + 1);
  }
  const start = lineStarts[selection.start - 1] ?? code.length;
  const end = lineStarts[selection.end] ?? code.length;
  return { start, end };
}

function describeErrors(check: SyntaxCheck): string {
  if (check.ok) return `parsed by ${check.parser}`;
  const [first] = check.errors;
  const more = check.errors.length > 1 ? ` (and ${check.errors.length - 1} more)` : "";
  const where = first === undefined ? "" : `${first.line}:${first.column} ${first.message}`;
  return `${check.parser}: ${where}${more}`;
}

function signatureKey(definition: Pick<Definition, "qualifiedName" | "parameters">): string {
  return `${definition.qualifiedName}(${definition.parameters.join(", ")})`;
}

function renamed(definition: Definition, rename?: { from: string; to: string }): Definition {
  if (rename === undefined) return definition;
  const swap = (word: string): string => (word === rename.from ? rename.to : word);
  return {
    ...definition,
    name: swap(definition.name),
    qualifiedName: definition.qualifiedName.split(".").map(swap).join("."),
    parameters: definition.parameters.map((parameter) => parameter.split(" ").map(swap).join(" ")),
  };
}

async function signatureCheck(input: RefactorSafetyInput): Promise<SafetyCheck> {
  const [before, after] = await Promise.all([
    definitions(input.original, input.language),
    definitions(input.refactored, input.language),
  ]);
  const selection = input.selection && selectionOffsets(input.original, input.selection);
  // A snippet that exports nothing is all interface; otherwise only what it exports is.
  const onlyExported = before.some((definition) => definition.exported);
  const expected = before
    .filter((definition) => !onlyExported || definition.exported)
    .filter(
      (definition) =>
        selection === undefined ||
        definition.headerEndIndex <= selection.start ||
        definition.startIndex >= selection.end,
    )
    .map((definition) => renamed(definition, input.rename));
  const available = new Map<string, number>();
  for (const definition of after) {
    if (onlyExported && !definition.exported) continue;
    const key = signatureKey(definition);
    available.set(key, (available.get(key) ?? 0) + 1);
  }
  const problems: string[] = [];
  for (const definition of expected) {
    const key = signatureKey(definition);
    const count = available.get(key) ?? 0;
    if (count > 0) {
      available.set(key, count - 1);
      continue;
    }
    const now = after.filter((candidate) => candidate.qualifiedName === definition.qualifiedName);
    if (now.some((candidate) => signatureKey(candidate) === key)) problems.push(`${key} is no longer public`);
    else if (now.length === 0) problems.push(`${key} is gone`);
    else problems.push(`${key} became ${now.map(signatureKey).join(" | ")}`);
  }
  return {
    name: "public_signatures_unchanged",
    passed: problems.length === 0,
    detail:
      problems.length === 0
        ? `${expected.length} public signature(s) outside the selection unchanged`
        : problems.join("; "),
  };
}

function quote(token: CodeToken | undefined): string {
  return token === undefined ? "the end of the code" : JSON.stringify(token.text);
}

async function renameChecks(input: RefactorSafetyInput, from: string, to: string): Promise<SafetyCheck[]> {
  const [before, after] = await Promise.all([
    codeTokens(input.original, input.language),
    codeTokens(input.refactored, input.language),
  ]);
  const isName = (token: CodeToken | undefined, name: string): boolean =>
    token !== undefined && token.identifier && token.text === name;
  const occurrences = before.filter((token) => isName(token, from)).length;
  const clash = before.find((token) => isName(token, to));
  const left = after.filter((token) => isName(token, from));

  // Align the token streams with the rename applied; a leftover old name is a missed occurrence,
  // anything else that differs is an unrelated change.
  let otherChange: string | undefined;
  const length = Math.max(before.length, after.length);
  for (let index = 0; index < length && otherChange === undefined; index += 1) {
    const original = before[index];
    const result = after[index];
    const expected = isName(original, from) ? to : original?.text;
    if (expected === result?.text) continue;
    if (isName(original, from) && isName(result, from)) continue;
    const line = result?.line ?? original?.line ?? 1;
    const wanted = isName(original, from) ? JSON.stringify(to) : quote(original);
    otherChange = `line ${line}: expected ${wanted} but found ${quote(result)}`;
  }

  return [
    {
      name: "rename_target_unused",
      passed: clash === undefined,
      detail:
        clash === undefined
          ? `${JSON.stringify(to)} does not occur in the original`
          : `${JSON.stringify(to)} already occurs in the original at line ${clash.line}`,
    },
    {
      name: "rename_complete",
      passed: occurrences > 0 && left.length === 0,
      detail:
        occurrences === 0
          ? `${JSON.stringify(from)} does not occur in the original`
          : left.length === 0
            ? `all ${occurrences} occurrence(s) of ${JSON.stringify(from)} renamed`
            : `${JSON.stringify(from)} still occurs at line(s) ${[...new Set(left.map((token) => token.line))].join(", ")}`,
    },
    {
      name: "rename_only",
      passed: otherChange === undefined,
      detail: otherChange ?? "nothing but the renamed identifiers changed",
    },
  ];
}

export async function refactorSafetyChecks(input: RefactorSafetyInput): Promise<RefactorSafety> {
  const syntax = await checkSyntax(input.refactored, input.language, input.syntax);
  const checks: SafetyCheck[] = [
    { name: "parses", passed: syntax.ok, detail: describeErrors(syntax) },
    await signatureCheck(input),
  ];
  if (input.operation === "rename") {
    if (input.rename === undefined) {
      checks.push({ name: "rename_complete", passed: false, detail: "a rename needs the old and new names" });
    } else {
      checks.push(...(await renameChecks(input, input.rename.from, input.rename.to)));
    }
  }
  const passed = checks.filter((check) => check.passed).length;
  return { checks, score: passed / checks.length };
}
