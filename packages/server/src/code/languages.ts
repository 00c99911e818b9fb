/**
 * The languages the code tools understand, and how fence tags, aliases and file extensions map
 * onto them. `jsx` and `tsx` are separate ids because they need their own parser settings.
 */

export const LANGUAGES = ["python", "javascript", "typescript", "jsx", "tsx", "rust", "go", "java"] as const;

export type Language = (typeof LANGUAGES)[number];

const EXTENSIONS: Record<Language, readonly string[]> = {
  python: [".py", ".pyw", ".pyi"],
  javascript: [".js", ".mjs", ".cjs"],
  typescript: [".ts", ".mts", ".cts"],
  jsx: [".jsx"],
  tsx: [".tsx"],
  rust: [".rs"],
  go: [".go"],
  java: [".java"],
};

/** Names models and clients use for a language, besides its id and its extensions. */
const ALIASES: Record<string, Language> = {
  py: "python",
  py3: "python",
  python3: "python",
  js: "javascript",
  node: "javascript",
  nodejs: "javascript",
  ecmascript: "javascript",
  es6: "javascript",
  ts: "typescript",
  rs: "rust",
  golang: "go",
};

const BY_EXTENSION = new Map<string, Language>(
  LANGUAGES.flatMap((language) => EXTENSIONS[language].map((ext) => [ext, language] as const)),
);

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/** Extensions of a language, each with its leading dot; the first is the usual one. */
export function extensionsOf(language: Language): readonly string[] {
  return EXTENSIONS[language];
}

/** The language of a file extension (`.ts`, `ts`, `.MJS`), if known. */
export function languageOfExtension(extension: string): Language | undefined {
  const lower = extension.toLowerCase();
  return BY_EXTENSION.get(lower.startsWith(".") ? lower : `.${lower}`);
}

/**
 * The language named by a fence tag, an alias, a language id, a bare extension or a file path
 * (`python`, `Py`, `golang`, `mjs`, `src/app.tsx`); `undefined` when none applies.
 */
export function languageOf(pathOrTag: string): Language | undefined {
  const value = pathOrTag.trim().toLowerCase();
  if (value === "") return undefined;
  if (isLanguage(value)) return value;
  const alias = ALIASES[value] ?? languageOfExtension(value);
  if (alias !== undefined) return alias;
  const basename = value.split(/[\\/]/).pop() ?? value;
  const dot = basename.lastIndexOf(".");
  return dot > 0 ? languageOfExtension(basename.slice(dot)) : undefined;
}

/** JavaScript and TypeScript dialects share one toolchain; a path may refine one into another. */
export function isJavaScriptFamily(language: Language): boolean {
  return language === "javascript" || language === "typescript" || language === "jsx" || language === "tsx";
}
