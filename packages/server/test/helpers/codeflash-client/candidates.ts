/**
 * Candidate responses (/ai/optimize, optimize-line-profiler, refinement, code_repair,
 * adaptive_optimize and the legacy rewrite_jit), judged in the client's order (protocol §4):
 * 1. parse `source_code` (non-string aborts the run; an unknown fence tag aborts the run; no
 *    block, or a block failing its syntax check, drops the candidate);
 * 2. build the candidate (explanation / optimization_id / parent_id / model types);
 * 3. drop it when its code equals the original's or an earlier candidate's.
 * Id rules of §9.2 and §9.3 (unique ids, known and expected parent_id) are reported as problems.
 */
import type { CandidateEndpoint } from "./endpoints.js";
import { languageOfTag, type MarkdownBlock, parseMarkdownBlocks, syntaxCheckOf } from "./markdown.js";
import { sameCode } from "./normalize.js";
import { compilePythonBatch, treeSitterError } from "./syntax.js";
import { type ClientVerdict, describe, isObject, RunAborted } from "./verdict.js";

/** What the request tells about the candidates the client expects back. */
export interface CandidateRequestContext {
  /** Candidate ids the request carries: the client knows them. */
  requestIds: string[];
  /** The parent_ids the client expects (`[null]` for first-pass endpoints); `undefined` = not checked. */
  expectedParents?: (string | null)[];
  /** Blocks of the original code (`source_code` / `original_source_code`). */
  originals: MarkdownBlock[][];
  /** Blocks of candidates the client already has (the request's candidate codes). */
  earlier: MarkdownBlock[][];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function blocksOf(markdown: unknown): MarkdownBlock[][] {
  return typeof markdown === "string" ? [parseMarkdownBlocks(markdown)] : [];
}

/** The refinement body is an array of items; the seed alias may send one object. */
function refinementItems(request: unknown): Record<string, unknown>[] {
  const items = Array.isArray(request) ? request : [request];
  return items.filter(isObject);
}

export function candidateRequestContext(
  endpoint: CandidateEndpoint,
  request: unknown,
): CandidateRequestContext {
  const body = isObject(request) ? request : {};
  switch (endpoint) {
    case "optimize":
    case "optimize-line-profiler":
    case "rewrite_jit":
      return { requestIds: [], expectedParents: [null], originals: blocksOf(body.source_code), earlier: [] };
    case "refinement": {
      const items = refinementItems(request);
      const ids = items.map((item) => str(item.optimization_id)).filter((id) => id !== undefined);
      return {
        requestIds: ids,
        expectedParents: ids.length > 0 ? ids : undefined,
        originals: items.flatMap((item) => blocksOf(item.original_source_code)),
        earlier: items.flatMap((item) => blocksOf(item.optimized_source_code)),
      };
    }
    case "code_repair": {
      const id = str(body.optimization_id);
      return {
        requestIds: id === undefined ? [] : [id],
        expectedParents: id === undefined ? undefined : [id],
        originals: blocksOf(body.original_source_code),
        earlier: blocksOf(body.modified_source_code),
      };
    }
    case "adaptive_optimize": {
      const chain = Array.isArray(body.candidates) ? body.candidates.filter(isObject) : [];
      const ids = chain.map((c) => str(c.optimization_id)).filter((id) => id !== undefined);
      const last = chain.length > 0 ? str(chain[chain.length - 1]?.optimization_id) : undefined;
      return {
        requestIds: ids,
        expectedParents: last === undefined ? undefined : [last],
        originals: blocksOf(body.original_source_code),
        earlier: chain.flatMap((c) => blocksOf(c.source_code)),
      };
    }
  }
}

/** The raw candidate objects of a 200 body; a missing wrapper key aborts the run. */
function rawCandidates(endpoint: CandidateEndpoint, body: unknown): unknown[] {
  if (endpoint === "code_repair" || endpoint === "adaptive_optimize") {
    if (!isObject(body))
      throw new RunAborted(`${endpoint}: the body is not a candidate object: ${describe(body)}`);
    return [body];
  }
  const key = endpoint === "refinement" ? "refinements" : "optimizations";
  if (!isObject(body) || !(key in body)) throw new RunAborted(`${endpoint}: 200 body has no "${key}" key`);
  const list = body[key];
  if (!Array.isArray(list)) throw new RunAborted(`${endpoint}: "${key}" is not an array: ${describe(list)}`);
  return list;
}

interface Parsed {
  raw: Record<string, unknown>;
  label: string;
  blocks: MarkdownBlock[];
}

/**
 * Judges a 200 candidate body into `verdict` (kept, dropped, problems); throws `RunAborted`.
 * Ids of candidates the client builds are added to `knownIds`.
 */
export async function judgeCandidates(
  endpoint: CandidateEndpoint,
  context: CandidateRequestContext,
  body: unknown,
  knownIds: Set<string>,
  verdict: ClientVerdict,
): Promise<void> {
  // Step 1, the parts outside any exception handler: the item must be indexable and
  // source_code a string.
  const parsed: Parsed[] = rawCandidates(endpoint, body).map((raw, index) => {
    const label = `${endpoint} candidate #${index}`;
    if (!isObject(raw)) throw new RunAborted(`${label} is not an object: ${describe(raw)}`);
    if (typeof raw.source_code !== "string")
      throw new RunAborted(`${label}: source_code is ${describe(raw.source_code)}, not a string`);
    const id = typeof raw.optimization_id === "string" ? ` (${raw.optimization_id})` : "";
    return { raw, label: `${label}${id}`, blocks: parseMarkdownBlocks(raw.source_code) };
  });

  // All Python blocks of the response compile in one python3 process.
  const pythonBlocks = parsed.flatMap((p) => p.blocks.filter((b) => languageOfTag(b.tag) === "python"));
  const compiled = await compilePythonBatch(pythonBlocks.map((b) => b.code));
  const pythonErrors = new Map<MarkdownBlock, string | null>(
    pythonBlocks.map((b, i) => [b, compiled[i] ?? null]),
  );

  const seenInResponse = new Set<string>();
  const built: string[] = [];
  const keptBlocks: MarkdownBlock[][] = [];

  const drop = (p: Parsed, reason: string): void => {
    const id = typeof p.raw.optimization_id === "string" ? p.raw.optimization_id : undefined;
    verdict.droppedCandidates.push(id === undefined ? { reason } : { optimization_id: id, reason });
    verdict.problems.push(`${p.label} dropped: ${reason}`);
  };

  for (const p of parsed) {
    // Step 1: blocks are validated one by one; the first invalid one empties the candidate
    // (later blocks are never looked at, so their tags cannot abort the run).
    const syntaxProblem = await firstBlockProblem(p, pythonErrors);
    if (syntaxProblem !== null) {
      drop(p, syntaxProblem);
      continue;
    }
    if (p.blocks.length === 0) {
      drop(p, "no tagged code block (```<tag>[:path]\\n...\\n```) in source_code");
      continue;
    }

    // Step 2: building the candidate.
    const { raw } = p;
    const typeProblems: string[] = [];
    if (!("explanation" in raw)) typeProblems.push("explanation is missing");
    else if (typeof raw.explanation !== "string")
      typeProblems.push(`explanation is ${describe(raw.explanation)}, not a string`);
    if (typeof raw.optimization_id !== "string")
      typeProblems.push(`optimization_id is ${describe(raw.optimization_id)}, not a string`);
    for (const key of ["parent_id", "model"] as const) {
      if (key in raw && raw[key] !== null && typeof raw[key] !== "string")
        typeProblems.push(`${key} is ${describe(raw[key])}, neither a string nor null`);
    }
    if (typeProblems.length > 0) {
      drop(p, typeProblems.join("; "));
      continue;
    }
    const id = raw.optimization_id as string;
    const parentId = (raw.parent_id as string | null | undefined) ?? null;

    // §9.2: ids are unique across the run, request ids included.
    if (seenInResponse.has(id))
      verdict.problems.push(`${p.label}: optimization_id ${id} is used twice in the response`);
    else if (knownIds.has(id))
      verdict.problems.push(`${p.label}: optimization_id ${id} is already known to the client (reused id)`);
    seenInResponse.add(id);
    built.push(id);

    // §9.3: parent_id is null or an id the client knows, and the one this endpoint implies.
    const expected = context.expectedParents;
    if (expected !== undefined && !expected.includes(parentId))
      verdict.problems.push(
        `${p.label}: parent_id ${describe(parentId)} should be ${expected.map((e) => describe(e)).join(" or ")}`,
      );
    if (parentId !== null && !knownIds.has(parentId))
      verdict.problems.push(`${p.label}: parent_id ${parentId} is not an id the client knows`);

    // Step 3: no real change.
    if (context.originals.some((original) => sameCode(p.blocks, original))) {
      drop(p, "its code is the original code (after normalization)");
      continue;
    }
    if ([...context.earlier, ...keptBlocks].some((earlier) => sameCode(p.blocks, earlier))) {
      drop(p, "its code equals an earlier candidate's (after normalization)");
      continue;
    }
    keptBlocks.push(p.blocks);
    verdict.keptCandidates.push({
      optimization_id: id,
      parent_id: parentId,
      explanation: raw.explanation as string,
      model: typeof raw.model === "string" ? raw.model : null,
      files: p.blocks.map((b) => (b.path === undefined ? { code: b.code } : { path: b.path, code: b.code })),
    });
  }
  for (const id of built) knownIds.add(id);
}

/** The first block that empties the candidate; throws `RunAborted` for an unknown tag reached first. */
async function firstBlockProblem(
  p: Parsed,
  pythonErrors: Map<MarkdownBlock, string | null>,
): Promise<string | null> {
  for (const [index, block] of p.blocks.entries()) {
    const where = `block #${index} (\`\`\`${block.tag}${block.path === undefined ? "" : `:${block.path}`})`;
    const language = languageOfTag(block.tag);
    if (language === undefined)
      throw new RunAborted(
        `${p.label}: ${where} has fence tag "${block.tag}", an unsupported language for the client`,
      );
    const check = syntaxCheckOf(block, language);
    const error =
      check.kind === "python"
        ? (pythonErrors.get(block) ?? null)
        : await treeSitterError(block.code, check.grammar);
    if (error !== null)
      return `${where} fails the client's ${check.kind === "python" ? "python compile()" : `tree-sitter ${check.grammar}`} check: ${error}`;
  }
  return null;
}
