/**
 * A canonical form of source code for equality and dedupe: the tree-sitter tokens, comments
 * dropped, joined by single spaces, one statement per line. Formatting that cannot change the
 * meaning is erased too — optional semicolons, trailing commas where they are insignificant, and
 * the quote style of plain string literals — while what can change it is kept: Python's
 * indentation becomes explicit `{` `}` around blocks, and statement boundaries stay line breaks
 * (`return\nx` is not `return x` in JavaScript, nor `a\n-b` `a - b` in Python).
 */
import type { Language } from "./languages.js";
import { isStringNode, treeTokens } from "./tokens.js";
import { childrenOf, isComment, type SyntaxNode, withTree } from "./tree-sitter.js";

const NEWLINE = "\n";

/** Nodes whose children are statements (or members), each kept on a line of its own. */
const STATEMENT_LISTS: Record<Language, ReadonlySet<string>> = {
  python: new Set(["module", "block"]),
  javascript: new Set(["program", "statement_block", "class_body"]),
  jsx: new Set(["program", "statement_block", "class_body"]),
  typescript: new Set(["program", "statement_block", "class_body"]),
  tsx: new Set(["program", "statement_block", "class_body"]),
  rust: new Set(["source_file", "block", "declaration_list"]),
  go: new Set(["source_file", "block", "statement_list"]),
  java: new Set(["program", "block", "class_body", "constructor_body", "interface_body"]),
};

/** Languages where a statement-ending `;` is optional (ASI, Go's inserted semicolons, Python). */
const OPTIONAL_SEMICOLONS = new Set<Language>(["python", "javascript", "jsx", "typescript", "tsx", "go"]);

/** Python containers where a trailing comma means nothing (in a tuple or subscript it does). */
const PYTHON_TRAILING_COMMA_LISTS = new Set([
  "argument_list",
  "parameters",
  "lambda_parameters",
  "list",
  "dictionary",
  "set",
  "import_from_statement",
]);

const CLOSERS = new Set([")", "]", "}", ">"]);

function nextCodeSibling(node: SyntaxNode): SyntaxNode | null {
  let next = node.nextSibling;
  while (next !== null && isComment(next)) next = next.nextSibling;
  return next;
}

function isInsignificantComma(node: SyntaxNode, language: Language): boolean {
  const next = nextCodeSibling(node);
  if (next !== null && !CLOSERS.has(next.type)) return false;
  const parent = node.parent?.type ?? "";
  if (language === "python") return PYTHON_TRAILING_COMMA_LISTS.has(parent);
  if (language === "rust") return !parent.startsWith("tuple");
  return true;
}

function isOptionalSemicolon(node: SyntaxNode, language: Language): boolean {
  if (!OPTIONAL_SEMICOLONS.has(language)) return false;
  const parent = node.parent;
  return parent === null || STATEMENT_LISTS[language].has(parent.type) || nextCodeSibling(node) === null;
}

/**
 * A literal without substitutions is one token; `'abc'` becomes `"abc"` (Python, JS/TS) when
 * nothing inside could make the two spellings differ. Substitutions are code: `undefined`.
 */
function stringToken(node: SyntaxNode, language: Language): string | undefined {
  if (node.descendantsOfType(["interpolation", "template_substitution"]).length > 0) return undefined;
  const single = /^'([^'"\\\n`$]*)'$/.exec(node.text);
  const quotesVary = language !== "rust" && language !== "go" && language !== "java";
  return quotesVary && single !== null ? `"${single[1] ?? ""}"` : node.text;
}

function normalizedTokens(root: SyntaxNode, code: string, language: Language): string[] {
  const out: string[] = [];
  const statementLists = STATEMENT_LISTS[language];
  const visit = (node: SyntaxNode): void => {
    if (isComment(node)) return;
    if (isStringNode(node)) {
      const literal = stringToken(node, language);
      if (literal !== undefined) out.push(literal);
      else for (const token of treeTokens(node, code)) out.push(token.text);
      return;
    }
    if (node.childCount === 0) {
      const text = node.type === "jsx_text" ? node.text.replace(/\s+/g, " ").trim() : node.text;
      if (text === "") return;
      if (text === ";" && isOptionalSemicolon(node, language)) return;
      if (text === "," && isInsignificantComma(node, language)) return;
      out.push(text);
      return;
    }
    const pythonBlock = language === "python" && node.type === "block";
    if (pythonBlock) out.push("{", NEWLINE);
    const isList = statementLists.has(node.type);
    for (const child of childrenOf(node)) {
      visit(child);
      if (isList) out.push(NEWLINE);
    }
    if (pythonBlock) out.push("}", NEWLINE);
  };
  visit(root);
  return out;
}

function joinTokens(tokens: readonly string[]): string {
  const lines: string[][] = [[]];
  for (const token of tokens) {
    if (token === NEWLINE) lines.push([]);
    else lines[lines.length - 1]?.push(token);
  }
  return lines
    .filter((line) => line.length > 0)
    .map((line) => line.join(" "))
    .join("\n");
}

/**
 * The canonical form of `code`: equal for two sources that differ only in comments and
 * formatting, different otherwise. Code that does not parse still gets a best-effort form.
 */
export function normalizeCode(code: string, language: Language): Promise<string> {
  return withTree(code, language, (tree) => joinTokens(normalizedTokens(tree.rootNode, code, language)));
}
