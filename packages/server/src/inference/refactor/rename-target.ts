import { type CodeToken, codeTokens, type Language } from "../../code/index.js";
import { invalidRequest } from "../../errors.js";

/** The identifier the selection points at: the rename's `from`. */
export async function selectedIdentifier(
  code: string,
  language: Language,
  start: number,
  end: number,
): Promise<string> {
  const tokens = await codeTokens(code, language);
  // The first identifier overlapping the selection [start, end).
  const hit = tokens.find((t) => t.identifier && t.startIndex < end && t.endIndex > start);
  if (hit === undefined) {
    throw invalidRequest("rename needs context.selection_start/selection_end on the identifier to rename", [
      { path: "context.selection_start", message: "does not point at an identifier" },
    ]);
  }
  return hit.text;
}

/**
 * What the model renamed `from` to: the first identifier that differs at a position where the
 * original had `from`, when the token streams line up (otherwise the checks report the mismatch).
 */
export async function renamedTo(
  original: CodeToken[],
  refactored: string,
  language: Language,
  from: string,
): Promise<string | undefined> {
  const after = await codeTokens(refactored, language);
  if (after.length !== original.length) return undefined;
  for (let i = 0; i < original.length; i++) {
    const before = original[i];
    const now = after[i];
    if (before?.text === from && now !== undefined && now.text !== from && now.identifier) return now.text;
  }
  return undefined;
}
