/**
 * Judges a server's answer exactly as the open-source codeflash client would (protocol in
 * spec/codeflash-protocol.md): would the client accept it, fail the call, or abort the whole
 * run, and which candidates would it keep? A `ClientRun` remembers the candidate ids the client
 * knows, so id uniqueness and parent_id rules hold across the calls of one run.
 *
 * ```ts
 * const run = new ClientRun();
 * const verdict = await run.judge("/ai/optimize", request, response.status, await response.text());
 * expect(verdict.problems).toEqual([]);
 * expect(verdict.outcome).toBe("accepted");
 * ```
 */
import {
  judgeExplain,
  judgeOptimizationReview,
  judgeRank,
  judgeTestgen,
  judgeTestgenReview,
  judgeWorkflowGen,
} from "./acceptance.js";
import { candidateRequestContext, judgeCandidates } from "./candidates.js";
import { canonicalEndpoint, type Endpoint, isCandidateEndpoint } from "./endpoints.js";
import { type ClientVerdict, emptyVerdict, FailedCall, isObject, RunAborted } from "./verdict.js";

export type { ClientFile, ClientVerdict, DroppedCandidate, KeptCandidate } from "./verdict.js";
export { canonicalEndpoint, type Endpoint } from "./endpoints.js";
export {
  CLIENT_BLOCK_PATTERN,
  languageOfTag,
  type MarkdownBlock,
  parseMarkdownBlocks,
  syntaxCheckOf,
} from "./markdown.js";
export { compilePython, compilePythonBatch, treeSitterError } from "./syntax.js";
export { TMP_DIR_PLACEHOLDER } from "./acceptance.js";

/** A run's memory: ids the client already knows (for parent_id and uniqueness across calls). */
export class ClientRun {
  knownIds = new Set<string>();

  /**
   * What the client would make of `bodyText` answered with `status` to `request` on
   * `endpoint` (`/ai/optimize`, `optimize-line-profiler`, `refine`, ...: `-`/`_` variants and
   * the seed aliases are accepted; an unknown name throws).
   */
  async judge(endpoint: string, request: unknown, status: number, bodyText: string): Promise<ClientVerdict> {
    const name = canonicalEndpoint(endpoint);
    const verdict = emptyVerdict();
    const context = isCandidateEndpoint(name) ? candidateRequestContext(name, request) : undefined;
    // The request's candidate ids came from the client: it knows them whatever the answer.
    for (const id of context?.requestIds ?? []) this.knownIds.add(id);

    if (name === "log_features") return verdict; // status and body are ignored

    if (status !== 200) {
      verdict.outcome = "failed_call";
      verdict.problems.push(...errorBodyProblems(name, status, bodyText));
      return verdict;
    }

    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      const problem = `${name}: 200 body is not JSON: ${JSON.stringify(bodyText.slice(0, 80))}`;
      verdict.outcome = name === "workflow-gen" ? "failed_call" : "run_aborted";
      verdict.problems.push(problem);
      return verdict;
    }

    try {
      if (context !== undefined && isCandidateEndpoint(name))
        await judgeCandidates(name, context, body, this.knownIds, verdict);
      else await judgeOther(name, request, body, verdict);
    } catch (error) {
      if (error instanceof RunAborted) {
        verdict.outcome = "run_aborted";
        verdict.keptCandidates = [];
      } else if (error instanceof FailedCall) {
        verdict.outcome = "failed_call";
      } else throw error;
      verdict.problems.push(error.message);
    }
    return verdict;
  }
}

async function judgeOther(
  name: Endpoint,
  request: unknown,
  body: unknown,
  verdict: ClientVerdict,
): Promise<void> {
  switch (name) {
    case "testgen":
    case "testgen_repair":
      return judgeTestgen(name, request, body, verdict);
    case "testgen_review":
      return judgeTestgenReview(name, request, body, verdict);
    case "rank":
      return judgeRank(name, request, body, verdict);
    case "optimization_review":
      return judgeOptimizationReview(name, body, verdict);
    case "explain":
      return judgeExplain(name, body, verdict);
    case "workflow-gen":
      return judgeWorkflowGen(name, body, verdict);
    default:
      throw new Error(`codeflash client checker: no judge for ${name}`);
  }
}

/** A non-200 is a failed call for the client; our server promises `{"error": string}` with it. */
function errorBodyProblems(name: Endpoint, status: number, bodyText: string): string[] {
  const problems: string[] = [];
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (!isObject(body) || typeof body.error !== "string")
    problems.push(
      `${name}: status ${status} with a body that is not {"error": string}: ${JSON.stringify(bodyText.slice(0, 80))}`,
    );
  return problems;
}

/** One-shot judgement with a fresh run (no ids known beyond the request's). */
export function judgeResponse(
  endpoint: string,
  request: unknown,
  status: number,
  bodyText: string,
): Promise<ClientVerdict> {
  return new ClientRun().judge(endpoint, request, status, bodyText);
}
