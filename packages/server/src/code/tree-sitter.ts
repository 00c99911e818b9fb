/**
 * Tree-sitter grammars for every language: the runtime is initialised once and each grammar's
 * wasm is loaded once, on first use. Trees live in wasm memory, so they are only handed out
 * inside `withTree`, which deletes them afterwards.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Language as Grammar, type Node, Parser, type Tree } from "web-tree-sitter";
import type { Language } from "./languages.js";

export type { Node as SyntaxNode } from "web-tree-sitter";

const require = createRequire(import.meta.url);

const GRAMMAR_FILES: Record<Language, { pkg: string; wasm: string }> = {
  python: { pkg: "tree-sitter-python", wasm: "tree-sitter-python.wasm" },
  javascript: { pkg: "tree-sitter-javascript", wasm: "tree-sitter-javascript.wasm" },
  jsx: { pkg: "tree-sitter-javascript", wasm: "tree-sitter-javascript.wasm" },
  typescript: { pkg: "tree-sitter-typescript", wasm: "tree-sitter-typescript.wasm" },
  tsx: { pkg: "tree-sitter-typescript", wasm: "tree-sitter-tsx.wasm" },
  rust: { pkg: "tree-sitter-rust", wasm: "tree-sitter-rust.wasm" },
  go: { pkg: "tree-sitter-go", wasm: "tree-sitter-go.wasm" },
  java: { pkg: "tree-sitter-java", wasm: "tree-sitter-java.wasm" },
};

let runtime: Promise<void> | undefined;
const parsers = new Map<string, Promise<Parser>>();

/** The name of the grammar that parses a language, as reported by `checkSyntax`. */
export function grammarName(language: Language): string {
  return GRAMMAR_FILES[language].wasm.replace(/\.wasm$/, "");
}

function parserFor(language: Language): Promise<Parser> {
  const { pkg, wasm } = GRAMMAR_FILES[language];
  const path = join(dirname(require.resolve(`${pkg}/package.json`)), wasm);
  let parser = parsers.get(path);
  if (parser === undefined) {
    runtime ??= Parser.init();
    parser = runtime.then(() => Grammar.load(path)).then((grammar) => new Parser().setLanguage(grammar));
    // A failed load is not cached, so a later call can try again.
    parser.catch(() => parsers.delete(path));
    parsers.set(path, parser);
  }
  return parser;
}

/**
 * Parses `code` and runs `use` on the tree, which is freed afterwards: nothing taken from the
 * tree may escape `use` except plain values.
 */
export async function withTree<T>(code: string, language: Language, use: (tree: Tree) => T): Promise<T> {
  const parser = await parserFor(language);
  const tree = parser.parse(code);
  if (tree === null) throw new Error(`tree-sitter could not parse ${language} code`);
  try {
    return use(tree);
  } finally {
    tree.delete();
  }
}

/** Child nodes, skipping the nulls web-tree-sitter's typings allow for. */
export function childrenOf(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

export function namedChildrenOf(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

/** Comments in every grammar: `comment`, `line_comment`, `block_comment`. */
export function isComment(node: Node): boolean {
  return node.type.endsWith("comment");
}
