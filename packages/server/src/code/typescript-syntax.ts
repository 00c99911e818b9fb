/**
 * The strict syntax check for JavaScript and TypeScript dialects: the TypeScript compiler's own
 * parser. Unlike tree-sitter it rejects every malformed construct (`{a:1,,}`), and in JavaScript
 * files it also rejects TypeScript-only syntax (type annotations, `interface`, `enum`).
 */
import ts from "typescript";
import type { Language } from "./languages.js";
import type { SyntaxDiagnostic } from "./syntax-result.js";

type ScriptLanguage = Extract<Language, "javascript" | "jsx" | "typescript" | "tsx">;

const SCRIPTS: Record<ScriptLanguage, { kind: ts.ScriptKind; fileName: string }> = {
  javascript: { kind: ts.ScriptKind.JS, fileName: "/snippet.js" },
  jsx: { kind: ts.ScriptKind.JSX, fileName: "/snippet.jsx" },
  typescript: { kind: ts.ScriptKind.TS, fileName: "/snippet.ts" },
  tsx: { kind: ts.ScriptKind.TSX, fileName: "/snippet.tsx" },
};

// Nothing is resolved or type-checked: the program exists only to ask for syntactic diagnostics.
const OPTIONS: ts.CompilerOptions = {
  allowJs: true,
  jsx: ts.JsxEmit.Preserve,
  noLib: true,
  noResolve: true,
  types: [],
};

export const TYPESCRIPT_PARSER = `typescript@${ts.version}`;

export function isScriptLanguage(language: Language): language is ScriptLanguage {
  return language in SCRIPTS;
}

/**
 * Syntax errors of one JS/TS source. A one-file program rather than `createSourceFile` alone,
 * because `getSyntacticDiagnostics` adds the "only in TypeScript files" errors to the parser's.
 */
export function typescriptSyntaxErrors(code: string, language: ScriptLanguage): SyntaxDiagnostic[] {
  const { kind, fileName } = SCRIPTS[language];
  const sourceFile = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, false, kind);
  const host: ts.CompilerHost = {
    getSourceFile: (name) => (name === fileName ? sourceFile : undefined),
    getDefaultLibFileName: () => "/lib.d.ts",
    writeFile: () => undefined,
    getCurrentDirectory: () => "/",
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (name) => name === fileName,
    readFile: (name) => (name === fileName ? code : undefined),
  };
  const program = ts.createProgram({ rootNames: [fileName], options: OPTIONS, host });
  return program.getSyntacticDiagnostics(sourceFile).map((diagnostic) => {
    const position = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    return {
      line: position.line + 1,
      column: position.character + 1,
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"),
    };
  });
}
