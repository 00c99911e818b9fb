/**
 * What a candidate must keep of the original's functions for the client to use it: the client
 * finds the definitions to replace by qualified name (§5.4, §8), and every caller and test still
 * calls them the old way, so a shared function keeps its parameters.
 */
import { isJavaScriptFamily, type Language } from "./languages.js";
import { normalizeCode } from "./normalize.js";
import { type Definition, definitions } from "./signatures.js";

/** A file's code with the language its definitions are read in. */
export interface AnalyzedSource {
  code: string;
  language: Language;
}

/** One file of a candidate beside the same file of the request. */
export interface FilePair {
  /** For messages: the original's path, or `(no path)`. */
  label: string;
  candidate: AnalyzedSource;
  original: AnalyzedSource;
}

export type FunctionCheck =
  | { ok: true; shared: string[] }
  | { ok: false; reason: "function_missing" | "signature_changed"; detail: string };

interface Parameter {
  /** The name (with `*`, `**` or `...` for rest parameters); `/` and `*` for Python markers. */
  name: string;
  /** Java and Go: the declared type, since callers break when it changes. */
  type?: string;
  /** Has a default value or is marked optional (`a = 1`, `a?: T`). */
  optional: boolean;
  /** Takes any number of arguments (`*args`, `**kw`, `...rest`). */
  variadic: boolean;
}

const OPENERS = new Set(["(", "[", "{", "<"]);
const CLOSERS = new Set([")", "]", "}", ">"]);
const SCRIPT_MODIFIERS = new Set(["public", "private", "protected", "readonly", "override"]);

/** Signature outlines give each parameter as its tokens joined by single spaces. */
function tokensOf(parameter: string): string[] {
  return parameter.split(" ").filter((token) => token !== "");
}

function pythonParameter(tokens: string[]): Parameter {
  const first = tokens[0] ?? "";
  const optional = tokens.includes("=");
  if (first === "*" || first === "**") {
    const name = tokens[1] === undefined ? first : `${first}${tokens[1]}`;
    return { name, optional, variadic: tokens[1] !== undefined };
  }
  return { name: first, optional, variadic: false };
}

function scriptParameter(tokens: string[]): Parameter {
  let index = 0;
  while (index < tokens.length - 1 && SCRIPT_MODIFIERS.has(tokens[index] ?? "")) index += 1;
  if (tokens[index] === "...") {
    return { name: `...${tokens[index + 1] ?? ""}`, optional: true, variadic: true };
  }
  // The name is everything up to the first top-level `:`, `=` or `?` (a destructuring pattern
  // is compared as written).
  const name: string[] = [];
  let depth = 0;
  for (; index < tokens.length; index += 1) {
    const token = tokens[index] ?? "";
    if (depth === 0 && (token === ":" || token === "=" || token === "?")) break;
    if (OPENERS.has(token)) depth += 1;
    if (CLOSERS.has(token)) depth -= 1;
    name.push(token);
  }
  const rest = tokens.slice(index);
  const optional = rest[0] === "?" || depthZeroIncludes(rest, "=");
  return { name: name.join(" "), optional, variadic: false };
}

function depthZeroIncludes(tokens: string[], wanted: string): boolean {
  let depth = 0;
  for (const token of tokens) {
    if (depth === 0 && token === wanted) return true;
    if (OPENERS.has(token)) depth += 1;
    if (CLOSERS.has(token)) depth -= 1;
  }
  return false;
}

function javaParameter(tokens: string[]): Parameter {
  // Annotations (`@NonNull`, `@Size ( max = 3 )`) and `final` do not change what callers pass.
  const kept: string[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] ?? "";
    if (token === "@") {
      index += 1;
      if (tokens[index + 1] === "(") index = closingIndex(tokens, index + 1);
      continue;
    }
    if (token !== "final") kept.push(token);
  }
  const name = kept.pop() ?? "";
  return { name, type: kept.join(" "), optional: false, variadic: kept.includes("...") };
}

function closingIndex(tokens: string[], open: number): number {
  let depth = 0;
  for (let index = open; index < tokens.length; index += 1) {
    if (tokens[index] === "(") depth += 1;
    if (tokens[index] === ")") depth -= 1;
    if (depth === 0) return index;
  }
  return tokens.length;
}

function goParameter(tokens: string[]): Parameter {
  // An unnamed parameter (`func(int)`) is all type.
  if (tokens.length === 1) return { name: "", type: tokens[0] ?? "", optional: false, variadic: false };
  const type = tokens.slice(1).join(" ");
  return { name: tokens[0] ?? "", type, optional: false, variadic: type.startsWith("...") };
}

function parameterOf(parameter: string, language: Language): Parameter {
  const tokens = tokensOf(parameter);
  if (language === "python") return pythonParameter(tokens);
  if (language === "java") return javaParameter(tokens);
  if (language === "go") return goParameter(tokens);
  return scriptParameter(tokens);
}

/**
 * `const f = x => …` has a bare identifier for its parameters, which the outline reads as none:
 * recover it from the definition's text.
 */
function parametersOf(definition: Definition, source: AnalyzedSource): string[] {
  if (definition.parameters.length > 0 || !isJavaScriptFamily(source.language)) return definition.parameters;
  const text = source.code.slice(definition.startIndex, definition.endIndex);
  const bare = /=\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  return bare?.[1] === undefined ? [] : [bare[1]];
}

/** An extra trailing parameter callers never have to pass. */
function isHarmlessExtra(parameter: Parameter): boolean {
  if (parameter.type !== undefined) return false;
  return parameter.optional || parameter.variadic || parameter.name === "*";
}

/**
 * Why the candidate's parameters break the original's callers, or `undefined` when they do
 * not: the same names in the same order (and the same types in Java and Go), no default taken
 * away, and only optional or rest parameters added at the end.
 */
export function signatureChange(
  original: readonly string[],
  candidate: readonly string[],
  language: Language,
): string | undefined {
  const before = original.map((parameter) => parameterOf(parameter, language));
  const after = candidate.map((parameter) => parameterOf(parameter, language));
  for (const [index, old] of before.entries()) {
    const now = after[index];
    if (now === undefined) return `parameter ${old.name || old.type || index + 1} removed`;
    if (now.name !== old.name) return `parameter ${index + 1} is ${now.name || now.type}, was ${old.name}`;
    if (old.type !== undefined && now.type !== old.type) {
      return `parameter ${old.name || index + 1} has type ${now.type ?? "?"}, was ${old.type}`;
    }
    if (old.optional && !now.optional) return `parameter ${old.name} lost its default`;
  }
  const added = after.slice(before.length).find((parameter) => !isHarmlessExtra(parameter));
  return added === undefined ? undefined : `required parameter ${added.name || added.type} added`;
}

function callables(all: readonly Definition[]): Definition[] {
  return all.filter((definition) => definition.kind !== "class");
}

/**
 * The function check of a candidate: it must define at least one function or method of the
 * original files (by qualified name, so a method kept inside its class shell counts), and each
 * such function must keep a compatible signature. A file whose original defines no function at
 * all (only classes) matches by class name instead.
 */
export async function checkFunctions(files: readonly FilePair[]): Promise<FunctionCheck> {
  const shared: string[] = [];
  let originalNames: string[] = [];
  for (const file of files) {
    const [before, after] = await Promise.all([
      definitions(file.original.code, file.original.language),
      definitions(file.candidate.code, file.candidate.language),
    ]);
    const functions = callables(before);
    const comparable = functions.length > 0 ? functions : before;
    originalNames = originalNames.concat(comparable.map((definition) => definition.qualifiedName));
    for (const definition of after) {
      const matches = comparable.filter((old) => old.qualifiedName === definition.qualifiedName);
      if (matches.length === 0 || matches[0]?.kind !== definition.kind) continue;
      shared.push(definition.qualifiedName);
      const candidateParameters = parametersOf(definition, file.candidate);
      // Overloads (Java, TypeScript): compatible with any one of the same name is enough.
      const changes = matches.map((old) =>
        signatureChange(parametersOf(old, file.original), candidateParameters, file.original.language),
      );
      if (changes.every((change) => change !== undefined)) {
        return {
          ok: false,
          reason: "signature_changed",
          detail: `${definition.qualifiedName} (${file.label}): ${changes[0] ?? ""}`,
        };
      }
    }
  }
  if (shared.length === 0) {
    const wanted = [...new Set(originalNames)].slice(0, 8).join(", ");
    return {
      ok: false,
      reason: "function_missing",
      detail: `the candidate defines none of the original's functions (${wanted || "none found"})`,
    };
  }
  return { ok: true, shared: [...new Set(shared)] };
}

function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines.filter((line) => line.trim() !== "").map((line) => /^[ \t]*/.exec(line)?.[0] ?? "");
  const width = Math.min(...indents.map((indent) => indent.length));
  return Number.isFinite(width) && width > 0 ? lines.map((line) => line.slice(width)).join("\n") : text;
}

async function normalizedDefinitions(source: AnalyzedSource): Promise<Map<string, string>> {
  const found = callables(await definitions(source.code, source.language));
  const entries = await Promise.all(
    found.map(async (definition) => {
      // Start at the line's beginning, so the first line keeps the indentation the others have.
      const lineStart = source.code.lastIndexOf("\n", definition.startIndex - 1) + 1;
      const indent = source.code.slice(lineStart, definition.startIndex);
      const from = /^[ \t]*$/.test(indent) ? lineStart : definition.startIndex;
      const code = dedent(source.code.slice(from, definition.endIndex));
      return [definition.qualifiedName, await normalizeCode(code, source.language)] as const;
    }),
  );
  return new Map(entries);
}

/** Functions of the candidate that differ from the original's beyond formatting, then new ones. */
export async function changedFunctions(files: readonly FilePair[]): Promise<string[]> {
  const changed: string[] = [];
  const added: string[] = [];
  for (const file of files) {
    const [before, after] = await Promise.all([
      normalizedDefinitions(file.original),
      normalizedDefinitions(file.candidate),
    ]);
    for (const [name, code] of after) {
      const old = before.get(name);
      if (old === undefined) added.push(name);
      else if (old !== code) changed.push(name);
    }
  }
  return [...new Set([...changed, ...added])];
}
