/**
 * From a model's raw answer to a candidate the codeflash client accepts (spec §4, §5, §9.4–9.5):
 * read the answer leniently, keep the blocks that are code for the request's files, re-render
 * them with the request's tag and paths, and drop — with a reason — what the client would drop
 * anyway: no block, a truncated one, a fence line inside code, a syntax error, no function of the
 * original, a changed signature, or no change at all.
 */
import { changedFunctions, checkFunctions, type FilePair } from "./candidate-functions.js";
import { basenameOf, type ClientBlock, clientPathKey } from "./candidate-markdown.js";
import { type CodeBlock, extractCodeBlocks, renderCodeBlocks } from "./code-blocks.js";
import { isJavaScriptFamily, type Language, languageOf } from "./languages.js";
import { normalizeCode } from "./normalize.js";
import { definitions } from "./signatures.js";
import { checkSyntax } from "./syntax-check.js";

export interface SalvageContext {
  /** The read-writable files of the request (parseClientMarkdown of its source_code). */
  original: readonly ClientBlock[];
  /** The fence tag to emit (what the client used: python, javascript, typescript, java, go). */
  tag: string;
}

export type DropReason =
  | "no_code"
  | "truncated"
  | "fence_in_code"
  | "syntax_error"
  | "function_missing"
  | "signature_changed"
  | "unchanged"
  | "duplicate";

export interface SalvagedCandidate {
  ok: true;
  /** The client's markdown: one block per file, in the request's order, with its tag and paths. */
  sourceCode: string;
  /** Never empty. */
  explanation: string;
  /** The blocks of `sourceCode`, as `parseClientMarkdown` reads them back. */
  files: ClientBlock[];
  /** Every file of the request, the candidate's version where it has one, normalized: equal means same code. */
  fingerprint: string;
}

export interface DroppedCandidate {
  ok: false;
  reason: DropReason;
  detail: string;
}

/** A file of the request, with the languages its code is read in. */
interface RequestFile {
  block: ClientBlock;
  /** The client's path key; absent for a path-less block. */
  key?: string;
  label: string;
  /** For outlines and normalization: the path's dialect when it has one (`.tsx`, `.mts`). */
  analysis: Language;
  /** For the syntax check: the grammar the client picks (§5.3). */
  check: Language;
}

interface Request {
  language: Language;
  files: RequestFile[];
}

/** A block of the answer that may be code for one of the request's files. */
interface Piece {
  block: CodeBlock;
  /** Dedented and trimmed: exactly what will be rendered. */
  code: string;
  names: Promise<Set<string>>;
}

const MAX_EXPLANATION = 2000;
const MAX_NAMED_FUNCTIONS = 5;

function sameFamily(a: Language, b: Language): boolean {
  return a === b || (isJavaScriptFamily(a) && isJavaScriptFamily(b));
}

/** §5.3: in JS/TS the path's extension alone picks the grammar; without a path, the tag does. */
function clientCheckLanguage(path: string | undefined, language: Language): Language {
  if (!isJavaScriptFamily(language) || path === undefined) return language;
  if (path.endsWith(".ts")) return "typescript";
  if (path.endsWith(".tsx")) return "tsx";
  return "javascript";
}

function analysisLanguage(path: string | undefined, language: Language): Language {
  const byPath = path === undefined ? undefined : languageOf(path);
  return byPath !== undefined && sameFamily(byPath, language) ? byPath : language;
}

function requestOf(context: SalvageContext): Request | undefined {
  const language = languageOf(context.tag);
  if (language === undefined) return undefined;
  // The client maps path → code: a repeated path keeps its first place and its last code.
  const byKey = new Map<string, RequestFile>();
  const files: RequestFile[] = [];
  for (const block of context.original) {
    const key = block.path === undefined ? undefined : clientPathKey(block.path);
    const file: RequestFile = {
      block,
      label: key ?? "(no path)",
      analysis: analysisLanguage(key, language),
      check: clientCheckLanguage(key, language),
    };
    if (key !== undefined) file.key = key;
    const earlier = key === undefined ? undefined : byKey.get(key);
    if (earlier !== undefined) {
      files[files.indexOf(earlier)] = file;
    } else {
      files.push(file);
    }
    if (key !== undefined) byKey.set(key, file);
  }
  return { language, files };
}

/** Removes the whitespace every non-blank line starts with, then the surrounding blank space. */
function tidyCode(code: string): string {
  const lines = code.split("\n");
  const indents = lines.filter((line) => line.trim() !== "").map((line) => /^[ \t]*/.exec(line)?.[0] ?? "");
  let common = indents[0] ?? "";
  for (const indent of indents) {
    while (!indent.startsWith(common)) common = common.slice(0, -1);
  }
  const dedented = common === "" ? lines : lines.map((line) => line.slice(common.length));
  return dedented.join("\n").trim();
}

/** Blocks in the request's language (any JS/TS dialect for JS/TS) and untagged ones may be code. */
function mayBeCode(block: CodeBlock, language: Language): boolean {
  if (block.language !== undefined) return sameFamily(block.language, language);
  return block.tag === undefined;
}

async function namesOf(code: string, language: Language): Promise<Set<string>> {
  const found = await definitions(code, language);
  return new Set(found.map((definition) => definition.qualifiedName));
}

function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let count = 0;
  for (const name of a) if (b.has(name)) count += 1;
  return count;
}

function unique<T>(items: readonly T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

function byPath(key: string, files: readonly RequestFile[]): RequestFile | undefined {
  const keyed = files.filter((file) => file.key !== undefined);
  return (
    unique(keyed.filter((file) => file.key === key)) ??
    // A path given from another root: `/home/me/proj/src/a.py`, or `a/b.py` for `src/a/b.py`.
    unique(keyed.filter((file) => file.key?.endsWith(`/${key}`) || key.endsWith(`/${file.key ?? ""}`))) ??
    unique(keyed.filter((file) => basenameOf(file.key ?? "") === basenameOf(key)))
  );
}

/**
 * The request file a block is for: its path (exact, then as a suffix, then by unique file name),
 * else the only file for a path-less block, else the file whose definitions it shares most.
 */
async function fileOf(
  piece: Piece,
  request: Request,
  originalNames: ReadonlyMap<RequestFile, Promise<Set<string>>>,
): Promise<RequestFile | undefined> {
  const key = piece.block.path === undefined ? undefined : clientPathKey(piece.block.path);
  if (key !== undefined) {
    const found = byPath(key, request.files);
    if (found !== undefined) return found;
  } else if (request.files.length === 1) {
    return request.files[0];
  }
  const names = await piece.names;
  const scores = await Promise.all(
    request.files.map(async (file) => overlap(names, (await originalNames.get(file)) ?? new Set())),
  );
  const best = Math.max(0, ...scores);
  if (best === 0) return undefined;
  return unique(request.files.filter((_, index) => scores[index] === best));
}

function drop(reason: DropReason, detail: string): DroppedCandidate {
  return { ok: false, reason, detail };
}

/** Strips a reasoning model's thinking, which may hold draft code blocks. */
function withoutThinking(text: string): string {
  return text.replace(/<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi, "");
}

interface Mapping {
  /** Per request file, the block that wins it. */
  chosen: Map<RequestFile, Piece>;
  /** Some block defined functions, but none of a request file. */
  unmatchedDefinitions: boolean;
}

async function mapPieces(pieces: readonly Piece[], request: Request): Promise<Mapping> {
  const originalNames = new Map(request.files.map((file) => [file, namesOf(file.block.code, file.analysis)]));
  const targets = await Promise.all(pieces.map((piece) => fileOf(piece, request, originalNames)));
  const chosen = new Map<RequestFile, Piece>();
  let unmatchedDefinitions = false;
  for (const [index, piece] of pieces.entries()) {
    const file = targets[index];
    if (file === undefined) {
      unmatchedDefinitions ||= (await piece.names).size > 0;
      continue;
    }
    // The later block wins, as in the client — unless it shares no definition with the file
    // while the earlier one does (a usage example after the code).
    const earlier = chosen.get(file);
    const names = (await originalNames.get(file)) ?? new Set<string>();
    const shares = overlap(await piece.names, names) > 0;
    const earlierShares = earlier !== undefined && overlap(await earlier.names, names) > 0;
    if (earlier === undefined || shares || !earlierShares) chosen.set(file, piece);
  }
  return { chosen, unmatchedDefinitions };
}

async function syntaxError(file: RequestFile, code: string): Promise<string | undefined> {
  const result = await checkSyntax(code, file.check, { filename: file.label });
  if (result.ok) return undefined;
  const first = result.errors[0];
  const where = first === undefined ? file.label : `${file.label}:${first.line}:${first.column}`;
  return `${where}: ${first?.message ?? "syntax error"} (${result.parser})`;
}

// The request's files are the same objects for every candidate of a call: normalize them once.
const normalizedOriginals = new WeakMap<ClientBlock, Map<Language, Promise<string>>>();

function normalizedOriginal(file: RequestFile): Promise<string> {
  let byLanguage = normalizedOriginals.get(file.block);
  if (byLanguage === undefined) {
    byLanguage = new Map();
    normalizedOriginals.set(file.block, byLanguage);
  }
  let normalized = byLanguage.get(file.analysis);
  if (normalized === undefined) {
    normalized = normalizeCode(file.block.code, file.analysis);
    normalized.catch(() => byLanguage.delete(file.analysis));
    byLanguage.set(file.analysis, normalized);
  }
  return normalized;
}

/** Normalized code of every request file, with the candidate's version where it has one. */
async function fingerprintOf(request: Request, replaced: ReadonlyMap<RequestFile, string>): Promise<string> {
  const normalized = await Promise.all(
    request.files.map((file) => {
      const code = replaced.get(file);
      return code === undefined ? normalizedOriginal(file) : normalizeCode(code, file.analysis);
    }),
  );
  return JSON.stringify(request.files.map((file, index) => [file.key ?? "", normalized[index]]));
}

// Explanation ------------------------------------------------------------------------------------

const INTERJECTION = /^(?:sure|certainly|of course|absolutely|okay|ok|great)\b[!.,]*\s*/i;
const LEAD_IN = /^(?:here(?:'s| is| are)|below (?:is|are)|the following (?:is|are))\b/i;
const CODE_WORDS = /\b(?:code|version|implementation|solution|function|rewrite)\b/i;
const HEADING =
  /^(?:(?:the|my|an?)\s+)?(?:(?:optimi[sz]ed|improved|updated|final|new|rewritten|faster|complete|full)\s+)?(?:code|version|implementation|solution|function)$|^explanation(?: of (?:the )?changes)?$/i;
const EXPLANATION_PREFIX = /^explanation\s*:\s*/i;
const WRAPPER_TAGS = /<\/?(?:explanation|optimized_code|code|answer|solution|output)>/gi;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s/;
/** Longer lines ending in a colon usually say something ("Use a Map, whose order is recency:"). */
const MAX_LEAD_IN_WORDS = 5;

/** A line without markdown emphasis and heading marks, for recognizing boilerplate. */
function plainLine(line: string): string {
  return line
    .trim()
    .replace(/^#{1,6}\s*/, "")
    .replace(/[*_]{2,3}/g, "")
    .trim();
}

function isBoilerplate(plain: string): boolean {
  if (/^(?:`{3,}|~{3,})\w*$/.test(plain)) return true;
  const sentence = plain.replace(INTERJECTION, "");
  const words = sentence.split(/\s+/).length;
  if (LEAD_IN.test(sentence) && (sentence.endsWith(":") || (CODE_WORDS.test(sentence) && words <= 12))) {
    return true;
  }
  return HEADING.test(sentence.replace(/:$/, "").trim());
}

/**
 * Lines that only announce the block after them ("Usage:", "Example output:"): a few words
 * ending with a colon, right before a fence. List items stay, they carry the steps.
 */
function leadInLines(text: string, blockLines: readonly number[]): Set<string> {
  const lines = text.split(/\r?\n/);
  const found = new Set<string>();
  for (const opening of blockLines) {
    let index = opening - 2;
    while (index >= 0 && (lines[index] ?? "").trim() === "") index -= 1;
    const line = lines[index]?.trimEnd() ?? "";
    const words = line.trim().split(/\s+/).length;
    if (line.endsWith(":") && words <= MAX_LEAD_IN_WORDS && !LIST_ITEM.test(line)) found.add(line.trim());
  }
  return found;
}

function capped(text: string): string {
  if (text.length <= MAX_EXPLANATION) return text;
  const head = text.slice(0, MAX_EXPLANATION - 1);
  const cut = Math.max(head.lastIndexOf("\n"), head.lastIndexOf(". ") + 1, head.lastIndexOf(" "));
  return `${(cut > MAX_EXPLANATION / 2 ? head.slice(0, cut) : head).trimEnd()}…`;
}

/**
 * The answer's prose, without the lead-ins and leftovers around code, at most ~2000 characters.
 * `leadIns` are lines to drop as well (see `leadInLines`).
 */
export function cleanExplanation(prose: string, leadIns: ReadonlySet<string> = new Set()): string {
  const lines = prose
    .replace(WRAPPER_TAGS, "")
    .split("\n")
    .flatMap((line) => {
      const plain = plainLine(line);
      if (isBoilerplate(plain) || leadIns.has(line.trim())) return [];
      return EXPLANATION_PREFIX.test(plain) ? [plain.replace(EXPLANATION_PREFIX, "")] : [line.trimEnd()];
    });
  return capped(
    lines
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim(),
  );
}

function listed(names: readonly string[]): string {
  const quoted = names.map((name) => `\`${name}\``);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1] ?? ""}`;
}

async function generatedExplanation(pairs: readonly FilePair[]): Promise<string> {
  const names = await changedFunctions(pairs);
  if (names.length === 0) return `Rewrote ${listed(pairs.map((pair) => pair.label))} for speed.`;
  const shown = names.slice(0, MAX_NAMED_FUNCTIONS);
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : "";
  return `Optimized ${listed(shown)}${more} for speed.`;
}

// ------------------------------------------------------------------------------------------------

/**
 * Turns a model's answer into a candidate for the client, or says why there is none. Blocks in
 * other languages, and blocks for no file of the request, are ignored; a truncated final block is
 * dropped. Each request file gets the last block written for it, rendered with the request's tag
 * and the file's own path, and must pass the client's syntax check; together they must define a
 * function of the original, keep its parameters, and change something.
 */
export async function salvageCandidate(
  modelOutput: string,
  context: SalvageContext,
): Promise<SalvagedCandidate | DroppedCandidate> {
  const request = requestOf(context);
  if (request === undefined) return drop("no_code", `unknown language tag ${JSON.stringify(context.tag)}`);
  if (request.files.length === 0) return drop("no_code", "the request has no file to optimize");

  const answer = withoutThinking(modelOutput);
  const extracted = extractCodeBlocks(answer);
  const pieces: Piece[] = [];
  for (const block of extracted.blocks) {
    if (!mayBeCode(block, request.language)) continue;
    const code = tidyCode(block.code);
    const piece = { block, code, names: namesOf(code, block.language ?? request.language) };
    // An untagged, path-less block that defines nothing is an output sample, not code.
    if (block.tag === undefined && block.path === undefined && (await piece.names).size === 0) continue;
    pieces.push(piece);
  }
  const { chosen, unmatchedDefinitions } = await mapPieces(pieces, request);
  const kept = request.files.filter((file) => chosen.has(file));
  if (kept.length === 0) {
    const truncated = extracted.truncatedBlock;
    if (truncated !== undefined && mayBeCode(truncated, request.language)) {
      return drop("truncated", `the answer stops inside a code block (line ${truncated.line})`);
    }
    if (unmatchedDefinitions) {
      return drop("function_missing", "no code block is for a file of the request");
    }
    return drop("no_code", "the answer holds no code block for the request's files");
  }

  const code = new Map(kept.map((file) => [file, chosen.get(file)?.code ?? ""]));
  for (const file of kept) {
    if (/^```/m.test(code.get(file) ?? "")) {
      return drop(
        "fence_in_code",
        `${file.label}: a code line begins with \`\`\`, where the client would cut it`,
      );
    }
  }
  const errors = await Promise.all(kept.map((file) => syntaxError(file, code.get(file) ?? "")));
  const error = errors.find((message) => message !== undefined);
  if (error !== undefined) return drop("syntax_error", error);

  const pairs: FilePair[] = kept.map((file) => ({
    label: file.label,
    candidate: { code: code.get(file) ?? "", language: file.analysis },
    original: { code: file.block.code, language: file.analysis },
  }));
  const functions = await checkFunctions(pairs);
  if (!functions.ok) return drop(functions.reason, functions.detail);

  const [fingerprint, originalFingerprint] = await Promise.all([
    fingerprintOf(request, code),
    fingerprintOf(request, new Map()),
  ]);
  if (fingerprint === originalFingerprint) {
    return drop("unchanged", "the code equals the original after normalization");
  }

  const files: ClientBlock[] = kept.map((file) => {
    const block: ClientBlock = { tag: context.tag, code: code.get(file) ?? "" };
    if (file.key !== undefined) block.path = file.key;
    return block;
  });
  const sourceCode = renderCodeBlocks(
    files.map((file) => ({ code: file.code, language: file.tag, ...(file.path ? { path: file.path } : {}) })),
  );
  const opened = [...extracted.blocks, ...(extracted.truncatedBlock ? [extracted.truncatedBlock] : [])];
  const leadIns = leadInLines(
    answer,
    opened.map((block) => block.line),
  );
  const explanation = cleanExplanation(extracted.prose, leadIns) || (await generatedExplanation(pairs));
  return { ok: true, sourceCode, explanation, files, fingerprint };
}

/** Drops candidates equal (after normalization) to the original or to an earlier accepted one. */
export class CandidateDeduper {
  private readonly accepted = new Set<string>();
  private original: Promise<string | undefined> | undefined;

  constructor(
    private readonly originalFiles: readonly ClientBlock[],
    private readonly tag: string,
  ) {}

  /** `unchanged` or `duplicate` for a candidate to drop; otherwise remembers it and returns `undefined`. */
  async admit(candidate: SalvagedCandidate): Promise<DropReason | undefined> {
    this.original ??= (async () => {
      const request = requestOf({ original: this.originalFiles, tag: this.tag });
      return request === undefined ? undefined : fingerprintOf(request, new Map());
    })();
    if (candidate.fingerprint === (await this.original)) return "unchanged";
    if (this.accepted.has(candidate.fingerprint)) return "duplicate";
    this.accepted.add(candidate.fingerprint);
    return undefined;
  }
}
