/**
 * The codeflash client's side of the markdown code format (spec/codeflash-protocol.md §5.2):
 * its one regular expression, read exactly as it reads it, and its notion of two paths being the
 * same file. Whatever the server sends is judged by this reading, not by a lenient one.
 */

/** A block of the request's markdown exactly as the client's regex (§5.2) reads it. */
export interface ClientBlock {
  /** The fence tag: word characters only (`python`, `typescript`). */
  tag: string;
  /** Trimmed, `./` segments removed; absent for ```` ```tag ```` and for a path of only spaces. */
  path?: string;
  /** Between the header line and the closing fence, untouched (a CRLF input keeps its `\r`). */
  code: string;
}

// `re.compile(r"```(\w+)(?::([^\n]+))?\n(.*?)\n```", re.DOTALL)`, with the tag's `\w` as the
// spec states it (ASCII word characters).
const CLIENT_BLOCK = /```([A-Za-z0-9_]+)(?::([^\n]+))?\n([\s\S]*?)\n```/g;

/**
 * The path as the client's `Path(path.strip())` sees it, spelled with forward slashes: no
 * surrounding whitespace (nor the `\r` of a CRLF header), no `.` segments, no doubled or
 * trailing slashes. Backslashes become separators too (a Windows client's native ones).
 */
export function clientPathKey(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/\\/g, "/");
  if (trimmed === "") return undefined;
  const absolute = trimmed.startsWith("/");
  const segments = trimmed.split("/").filter((segment) => segment !== "" && segment !== ".");
  const key = `${absolute ? "/" : ""}${segments.join("/")}`;
  return key === "" ? undefined : key;
}

/** The last segment of a path key. */
export function basenameOf(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/**
 * Every block of `markdown` the client would find, in order: ```` ```TAG(:PATH)?\nCODE\n``` ````,
 * non-greedy, so the code ends at the first line that begins with three backticks. Text outside
 * the blocks, untagged fences, a space instead of the colon and `~~~` fences yield nothing.
 */
export function parseClientMarkdown(markdown: string): ClientBlock[] {
  const blocks: ClientBlock[] = [];
  for (const match of markdown.matchAll(CLIENT_BLOCK)) {
    const block: ClientBlock = { tag: match[1] ?? "", code: match[3] ?? "" };
    const path = match[2] === undefined ? undefined : clientPathKey(match[2]);
    if (path !== undefined) block.path = path;
    blocks.push(block);
  }
  return blocks;
}
