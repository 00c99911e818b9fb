/**
 * §4 step 3: the client drops a candidate whose normalized code equals the original's or an
 * earlier candidate's. The client normalizes more thoroughly; this is the part a test needs:
 * trailing whitespace, blank lines and comment-only lines do not count.
 */
import { languageOfTag, type MarkdownBlock, normalizePath } from "./markdown.js";

export function normalizeCode(code: string, tag: string): string {
  const comment = languageOfTag(tag) === "python" ? "#" : "//";
  return code
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !line.trimStart().startsWith(comment))
    .join("\n");
}

function basename(path: string): string {
  return path.split("/").pop() ?? path;
}

/**
 * Would applying `candidate` leave `reference` unchanged? Each candidate block is compared
 * with the reference file the client would match it to (§5.4: same path, else the only
 * reference block, else the only one with the same file name); a block with no counterpart
 * is a change.
 */
export function sameCode(candidate: readonly MarkdownBlock[], reference: readonly MarkdownBlock[]): boolean {
  if (candidate.length === 0 || reference.length === 0) return false;
  const byPath = new Map<string, string>();
  for (const block of reference) {
    const path = normalizePath(block.path);
    if (path !== undefined) byPath.set(path, normalizeCode(block.code, block.tag));
  }
  const only = reference.length === 1 && reference[0] !== undefined ? reference[0] : undefined;
  for (const block of candidate) {
    const path = normalizePath(block.path);
    let counterpart = path === undefined ? undefined : byPath.get(path);
    if (counterpart === undefined && only !== undefined) counterpart = normalizeCode(only.code, only.tag);
    if (counterpart === undefined && path !== undefined) {
      const sameName = reference.filter((r) => r.path !== undefined && basename(r.path) === basename(path));
      if (sameName.length === 1 && sameName[0] !== undefined)
        counterpart = normalizeCode(sameName[0].code, sameName[0].tag);
    }
    if (counterpart === undefined || counterpart !== normalizeCode(block.code, block.tag)) return false;
  }
  return true;
}
