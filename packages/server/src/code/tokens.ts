/**
 * The token stream of a parse tree: its leaves in source order, comments left out. String
 * literals whose content is not a node of its own in some grammar still yield their text, as
 * "gap" tokens between the literal's children, so no significant character is lost.
 */
import type { Language } from "./languages.js";
import { childrenOf, isComment, type SyntaxNode, withTree } from "./tree-sitter.js";

export interface CodeToken {
  text: string;
  /** The leaf's node type (`identifier`, `string_content`, `"("`); `string_gap` for gap text. */
  type: string;
  /** An identifier of any flavour: `identifier`, `property_identifier`, `type_identifier`, … */
  identifier: boolean;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  /** Offsets in the source string (UTF-16 code units), end exclusive. */
  startIndex: number;
  endIndex: number;
}

/** A name token of any grammar; keywords and literals never match. */
export function isIdentifierNode(node: SyntaxNode): boolean {
  return node.isNamed && node.type.endsWith("identifier") && node.childCount === 0;
}

const STRING_TYPES = new Set([
  "string",
  "template_string",
  "string_literal",
  "raw_string_literal",
  "interpreted_string_literal",
  "char_literal",
  "character_literal",
  "rune_literal",
  "text_block",
]);

/** Literals whose text between children is significant even where the grammar has no node for it. */
export function isStringNode(node: SyntaxNode): boolean {
  return STRING_TYPES.has(node.type);
}

function leafToken(node: SyntaxNode): CodeToken {
  return {
    text: node.text,
    type: node.type,
    identifier: isIdentifierNode(node),
    line: node.startPosition.row + 1,
    column: node.startPosition.column + 1,
    startIndex: node.startIndex,
    endIndex: node.endIndex,
  };
}

function gapToken(code: string, start: number, end: number): CodeToken {
  const before = code.slice(0, start);
  const line = before.split("\n").length;
  return {
    text: code.slice(start, end),
    type: "string_gap",
    identifier: false,
    line,
    column: start - before.lastIndexOf("\n"),
    startIndex: start,
    endIndex: end,
  };
}

/** Leaves of `root` in order (comments skipped), with string gap text. `code` is the parsed source. */
export function treeTokens(root: SyntaxNode, code: string): CodeToken[] {
  const tokens: CodeToken[] = [];
  const visit = (node: SyntaxNode): void => {
    if (isComment(node)) return;
    if (node.childCount === 0) {
      if (node.endIndex > node.startIndex) tokens.push(leafToken(node));
      return;
    }
    const children = childrenOf(node);
    if (!isStringNode(node)) {
      for (const child of children) visit(child);
      return;
    }
    let position = node.startIndex;
    for (const child of children) {
      if (child.startIndex > position) tokens.push(gapToken(code, position, child.startIndex));
      visit(child);
      position = Math.max(position, child.endIndex);
    }
    if (node.endIndex > position) tokens.push(gapToken(code, position, node.endIndex));
  };
  visit(root);
  return tokens;
}

export function codeTokens(code: string, language: Language): Promise<CodeToken[]> {
  return withTree(code, language, (tree) => treeTokens(tree.rootNode, code));
}
