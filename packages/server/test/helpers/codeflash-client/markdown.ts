/**
 * The client's markdown code format (protocol §5.2 and §5.3): the exact block pattern, and what
 * a fence tag means to the client.
 */

/**
 * The client's pattern, `` ```(\w+)(?::([^\n]+))?\n(.*?)\n``` `` with DOTALL, translated to a
 * JavaScript regex: Python's `\w` on `str` is Unicode-aware (letters, numbers, underscore), so
 * it becomes `[\p{L}\p{N}_]` under the `u` flag; `s` makes `.` match newlines.
 */
export const CLIENT_BLOCK_PATTERN = /```([\p{L}\p{N}_]+)(?::([^\n]+))?\n(.*?)\n```/gsu;

export interface MarkdownBlock {
  /** The fence tag as written (`python`, `typescript`, `ts`, `text`, ...). */
  tag: string;
  /** The path after `:`, stripped like Python's `str.strip()`; `undefined` when there is none. */
  path?: string;
  /** The code between the fences, untouched (a CRLF body keeps its `\r`s). */
  code: string;
}

/** Every block the client would find in `markdown`, in order (prose and untagged fences ignored). */
export function parseMarkdownBlocks(markdown: string): MarkdownBlock[] {
  const blocks: MarkdownBlock[] = [];
  for (const match of markdown.matchAll(CLIENT_BLOCK_PATTERN)) {
    const [, tag = "", rawPath, code = ""] = match;
    // Python keeps `file_path` only when the group matched something (`if file_path:`).
    blocks.push(
      rawPath === undefined || rawPath === "" ? { tag, code } : { tag, path: pythonStrip(rawPath), code },
    );
  }
  return blocks;
}

/** Python's `str.strip()` with no argument: all Unicode whitespace, which `String.trim` matches closely. */
function pythonStrip(text: string): string {
  return text.trim();
}

/** The language a fence tag stands for, as the client resolves it; `undefined` = unknown tag (run aborts). */
export type ClientLanguage = "python" | "javascript" | "typescript" | "java" | "go";

const TAG_EXTENSIONS: Record<string, ClientLanguage> = {
  py: "python",
  pyw: "python",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  java: "java",
  go: "go",
};

const TAG_NAMES: readonly ClientLanguage[] = ["python", "javascript", "typescript", "java", "go"];

/** `python` → python; else the tag as an extension, then as a language name (case-insensitive). */
export function languageOfTag(tag: string): ClientLanguage | undefined {
  if (tag === "python") return "python";
  const lower = tag.toLowerCase();
  return TAG_EXTENSIONS[lower] ?? TAG_NAMES.find((name) => name === lower);
}

/** The tree-sitter grammars the client's JS/TS, Java and Go checks use. */
export type ClientGrammar = "javascript" | "typescript" | "tsx" | "java" | "go";

/** How a block of a known language is syntax-checked by the client. */
export type SyntaxCheckKind = { kind: "python" } | { kind: "tree-sitter"; grammar: ClientGrammar };

/**
 * Python → CPython `compile()`; Java/Go → their grammars; JS/TS → the path's extension alone
 * picks the grammar (`.ts` → typescript, `.tsx` → tsx, anything else → javascript), the tag's
 * language only when the block has no path.
 */
export function syntaxCheckOf(block: MarkdownBlock, language: ClientLanguage): SyntaxCheckKind {
  switch (language) {
    case "python":
      return { kind: "python" };
    case "java":
    case "go":
      return { kind: "tree-sitter", grammar: language };
    case "javascript":
    case "typescript": {
      if (block.path === undefined) return { kind: "tree-sitter", grammar: language };
      const suffix = pythonSuffix(block.path);
      const grammar = suffix === ".ts" ? "typescript" : suffix === ".tsx" ? "tsx" : "javascript";
      return { kind: "tree-sitter", grammar };
    }
  }
}

/** `pathlib.PurePosixPath(path).suffix`: the last dot-part of the file name, not a leading dot. */
export function pythonSuffix(path: string): string {
  const name = path.replace(/\/+$/, "").split("/").pop() ?? "";
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot) : "";
}

/** `Path(a) == Path(b)` for the relative POSIX paths blocks carry: `./a//b/` equals `a/b`. */
export function normalizePath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const absolute = path.startsWith("/");
  const joined = path
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
  return absolute ? `/${joined}` : joined === "" ? "." : joined;
}
