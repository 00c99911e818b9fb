/**
 * Fenced code blocks in model output, and the one block format the codeflash client accepts
 * (spec/codeflash-protocol.md §5). Reading is lenient — models write prose around blocks, forget
 * or misspell tags, indent fences inside lists and stop mid-block — while writing is exact.
 */
import { isJavaScriptFamily, type Language, languageOf } from "./languages.js";

export interface CodeBlock {
  /** From the tag when it names a language, else from the path's extension, else the default. */
  language?: Language;
  /** The tag as written (`python`, `Py`, `c++`), when the fence has one. */
  tag?: string;
  /** From ```` ```lang:path ````, ```` ```path ````, `title="path"` or a `# file: path` first line. */
  path?: string;
  code: string;
  /** True only for a final block whose closing fence never came. */
  truncated: boolean;
  /** 1-based line of the opening fence in the text. */
  line: number;
}

export interface ExtractedCode {
  /** Complete blocks, in order. */
  blocks: CodeBlock[];
  /** A final block without a closing fence: reported here, never among `blocks`. */
  truncatedBlock?: CodeBlock;
  /** The text outside every block (an answer's explanation), trimmed. */
  prose: string;
}

export interface ExtractOptions {
  /** Language of blocks whose tag and path name none (a bare fence, `text`, `output`). */
  defaultLanguage?: Language;
}

interface Fence {
  indent: number;
  char: "`" | "~";
  length: number;
  info: string;
}

// A backtick fence's info string may not contain backticks, which keeps inline ```x``` out.
const FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const PATH_COMMENT = /^\s*(?:#|\/\/)\s*(?:file(?:name)?|path)\s*:\s*(\S+)\s*$/i;
const PATH_ATTRIBUTE = /\b(?:title|file|filename|path)\s*=\s*["']?([^"'\s]+)/i;

function readFence(line: string): Fence | undefined {
  const match = FENCE.exec(line);
  if (!match) return undefined;
  const marks = match[2] ?? "";
  const info = (match[3] ?? "").trim();
  const char = marks[0] === "~" ? "~" : "`";
  if (char === "`" && info.includes("`")) return undefined;
  return { indent: indentWidth(match[1] ?? ""), char, length: marks.length, info };
}

function indentWidth(whitespace: string): number {
  let width = 0;
  for (const ch of whitespace) width += ch === "\t" ? 4 - (width % 4) : 1;
  return width;
}

/** Removes up to `width` columns of leading whitespace, as CommonMark does inside indented fences. */
function dedent(line: string, width: number): string {
  let removed = 0;
  let index = 0;
  while (index < line.length && removed < width) {
    const ch = line[index];
    if (ch === " ") removed += 1;
    else if (ch === "\t") removed += 4 - (removed % 4);
    else break;
    index += 1;
  }
  return line.slice(index);
}

function looksLikePath(word: string): boolean {
  return /[\\/]/.test(word) || /^[^.\s]\S*\.[A-Za-z][A-Za-z0-9]*$/.test(word);
}

function cleanPath(raw: string): string | undefined {
  const path = raw
    .trim()
    .replace(/^["'`]|["'`]$/g, "")
    .trim();
  return path === "" ? undefined : path;
}

/** Splits an info string into a tag and a path: `python:a.py`, `python a.py`, `a.py`, `{python}`. */
function readInfo(info: string): { tag?: string; path?: string } {
  if (info === "") return {};
  const colon = /^([A-Za-z0-9_+#-]+):(.*)$/.exec(info);
  if (colon) return { tag: colon[1], path: cleanPath(colon[2] ?? "") };
  const words = info.replace(/^\{\.?|\}$/g, "").split(/\s+/);
  const first = words[0] ?? "";
  const attribute = PATH_ATTRIBUTE.exec(info)?.[1];
  if (looksLikePath(first)) return { path: cleanPath(first) };
  const second = words[1];
  const path = attribute ?? (second !== undefined && looksLikePath(second) ? second : undefined);
  return { tag: first.replace(/[,;]$/, ""), path: path === undefined ? undefined : cleanPath(path) };
}

function resolveLanguage(tag: string | undefined, path: string | undefined, fallback?: Language) {
  const byTag = tag === undefined ? undefined : languageOf(tag);
  const byPath = path === undefined ? undefined : languageOf(path);
  // Within the JS/TS family the extension is the finer signal (`typescript:App.tsx` is TSX).
  if (
    byTag !== undefined &&
    byPath !== undefined &&
    isJavaScriptFamily(byTag) &&
    isJavaScriptFamily(byPath)
  ) {
    return byPath;
  }
  return byTag ?? byPath ?? fallback;
}

function buildBlock(
  fence: Fence,
  lines: readonly string[],
  line: number,
  truncated: boolean,
  options: ExtractOptions,
): CodeBlock {
  const info = readInfo(fence.info);
  let body = lines.map((text) => dedent(text, fence.indent));
  let path = info.path;
  const pathComment = body[0] === undefined ? undefined : PATH_COMMENT.exec(body[0]);
  if (path === undefined && pathComment) {
    path = pathComment[1];
    body = body.slice(1);
  }
  const block: CodeBlock = { code: body.join("\n"), truncated, line };
  const language = resolveLanguage(info.tag, path, options.defaultLanguage);
  if (language !== undefined) block.language = language;
  if (info.tag !== undefined && info.tag !== "") block.tag = info.tag;
  if (path !== undefined) block.path = path;
  return block;
}

interface BlockEnd {
  /** The first line after the code. */
  end: number;
  /** Where reading resumes: after a closing fence, or at a fence that opens the next block. */
  next: number;
}

function closingFenceCandidates(lines: readonly string[], from: number, open: Fence) {
  const candidates: { index: number; fence: Fence }[] = [];
  for (let index = from; index < lines.length; index += 1) {
    const fence = readFence(lines[index] ?? "");
    // CommonMark: same character, at least as long; and at most 3 columns deeper than the opener.
    if (!fence || fence.char !== open.char || fence.length < open.length) continue;
    if (fence.indent <= open.indent + 3) candidates.push({ index, fence });
  }
  return candidates;
}

/**
 * Where the block opened by `open` ends. A fence with an info string inside the code opens a
 * nested block (markdown in a docstring or template string) whose bare fence does not end ours.
 * When that nesting never balances, the model most likely forgot a closing fence: the block ends
 * where the next one opens. Failing that, the first bare fence closes it, as in CommonMark.
 */
function findBlockEnd(lines: readonly string[], from: number, open: Fence): BlockEnd | undefined {
  const candidates = closingFenceCandidates(lines, from, open);
  let depth = 0;
  for (const { index, fence } of candidates) {
    if (fence.info !== "") depth += 1;
    else if (depth === 0) return { end: index, next: index + 1 };
    else depth -= 1;
  }
  const nextOpener = candidates.find(({ fence }) => fence.info !== "" && fence.indent <= open.indent);
  if (nextOpener !== undefined) return { end: nextOpener.index, next: nextOpener.index };
  const bare = candidates.find(({ fence }) => fence.info === "");
  return bare === undefined ? undefined : { end: bare.index, next: bare.index + 1 };
}

/** Every fenced code block of a model's answer, the prose around them, and a truncated last block. */
export function extractCodeBlocks(text: string, options: ExtractOptions = {}): ExtractedCode {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  const prose: string[] = [];
  let truncatedBlock: CodeBlock | undefined;
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? "";
    const fence = readFence(line);
    if (!fence) {
      prose.push(line);
      index += 1;
      continue;
    }
    const blockEnd = findBlockEnd(lines, index + 1, fence);
    if (blockEnd === undefined) {
      truncatedBlock = buildBlock(fence, lines.slice(index + 1), index + 1, true, options);
      break;
    }
    blocks.push(buildBlock(fence, lines.slice(index + 1, blockEnd.end), index + 1, false, options));
    prose.push("");
    index = blockEnd.next;
  }
  const result: ExtractedCode = {
    blocks,
    prose: prose
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim(),
  };
  if (truncatedBlock !== undefined) result.truncatedBlock = truncatedBlock;
  return result;
}

export interface RenderableBlock {
  code: string;
  /** The fence tag: a language id or what the client sent (`python`, `typescript`, `tsx`). */
  language: string;
  path?: string;
}

/**
 * One block exactly as the codeflash client renders and parses it (§5.1, §5.2):
 * ```` ```tag:posix/path ```` (or ```` ```tag ````), the code stripped of surrounding whitespace,
 * and a closing fence with no newline after it.
 */
export function renderCodeBlock(code: string, language: string, path?: string): string {
  if (!/^\w+$/.test(language)) {
    throw new RangeError(`fence tag must be word characters only, got ${JSON.stringify(language)}`);
  }
  let header = language;
  if (path !== undefined && path.trim() !== "") {
    if (/[\r\n]/.test(path)) throw new RangeError("a code block path cannot contain a line break");
    header += `:${path.trim().replace(/\\/g, "/")}`;
  }
  return `\`\`\`${header}\n${code.trim()}\n\`\`\``;
}

/** Several blocks joined the way the client joins a bundle: a single `\n` between them. */
export function renderCodeBlocks(blocks: readonly RenderableBlock[]): string {
  return blocks.map((block) => renderCodeBlock(block.code, block.language, block.path)).join("\n");
}
