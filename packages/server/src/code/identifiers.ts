/**
 * Where a name occurs as an identifier token — never inside string text or comments, but inside
 * f-string and template-literal substitutions, which are code. Rename checks rely on this.
 */
import type { Language } from "./languages.js";
import { codeTokens } from "./tokens.js";

export interface IdentifierOccurrence {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  /** Offsets in the source (UTF-16 code units), end exclusive. */
  startIndex: number;
  endIndex: number;
}

export async function identifierOccurrences(
  code: string,
  language: Language,
  name: string,
): Promise<IdentifierOccurrence[]> {
  const tokens = await codeTokens(code, language);
  return tokens
    .filter((token) => token.identifier && token.text === name)
    .map(({ line, column, startIndex, endIndex }) => ({ line, column, startIndex, endIndex }));
}
