/**
 * The non-candidate endpoints' 200 bodies, judged as the client reads them (protocol §2, §3):
 * a missing required key aborts the run; slips the client survives are problems.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compilePythonBatch } from "./syntax.js";
import { type ClientVerdict, describe, FailedCall, isInt, isObject, RunAborted } from "./verdict.js";

export const TMP_DIR_PLACEHOLDER = "{codeflash_run_tmp_dir_client_side}";

/** What the client substitutes for the placeholder: its run's temp directory. */
const CLIENT_TMP_DIR = join(tmpdir(), "codeflash_client_check");

function requireObject(endpoint: string, body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw new RunAborted(`${endpoint}: 200 body is not a JSON object: ${describe(body)}`);
  return body;
}

function requireKey(endpoint: string, body: Record<string, unknown>, key: string): unknown {
  if (!(key in body)) throw new RunAborted(`${endpoint}: 200 body has no "${key}" key`);
  return body[key];
}

function requestLanguage(request: unknown): string | undefined {
  if (!isObject(request)) return undefined;
  if (typeof request.language === "string") return request.language.toLowerCase();
  const fto = request.function_to_optimize;
  return isObject(fto) && typeof fto.language === "string" ? fto.language.toLowerCase() : undefined;
}

/** /ai/testgen and /ai/testgen_repair: three strings; for Python, runnable instrumented files. */
export async function judgeTestgen(
  endpoint: string,
  request: unknown,
  body: unknown,
  verdict: ClientVerdict,
): Promise<void> {
  const object = requireObject(endpoint, body);
  const keys = ["generated_tests", "instrumented_behavior_tests", "instrumented_perf_tests"] as const;
  const [, behavior, perf] = keys.map((key) => {
    const value = requireKey(endpoint, object, key);
    if (typeof value !== "string")
      throw new RunAborted(`${endpoint}: "${key}" is ${describe(value)}, not a string`);
    return value;
  }) as [string, string, string];
  if (
    "raw_generated_tests" in object &&
    object.raw_generated_tests !== null &&
    typeof object.raw_generated_tests !== "string"
  )
    verdict.problems.push(
      `${endpoint}: raw_generated_tests is ${describe(object.raw_generated_tests)}, not a string`,
    );

  if (requestLanguage(request) !== "python") return;
  // The client writes the two instrumented files and runs them as given, after one substitution.
  if (!behavior.includes(TMP_DIR_PLACEHOLDER))
    verdict.problems.push(
      `${endpoint}: instrumented_behavior_tests lacks ${TMP_DIR_PLACEHOLDER}, so the client cannot find its recorded results`,
    );
  const substitute = (text: string) => text.split(TMP_DIR_PLACEHOLDER).join(CLIENT_TMP_DIR);
  const [behaviorError, perfError] = await compilePythonBatch([substitute(behavior), substitute(perf)]);
  if (behaviorError)
    verdict.problems.push(`${endpoint}: instrumented_behavior_tests does not compile: ${behaviorError}`);
  if (perfError) verdict.problems.push(`${endpoint}: instrumented_perf_tests does not compile: ${perfError}`);
}

/** /ai/testgen_review: optional `reviews`; `test_index` indexes the request's tests. */
export function judgeTestgenReview(
  endpoint: string,
  request: unknown,
  body: unknown,
  verdict: ClientVerdict,
): void {
  const object = requireObject(endpoint, body);
  if (!("reviews" in object)) return;
  const reviews = object.reviews;
  if (reviews === null) {
    verdict.problems.push(`${endpoint}: "reviews" is null; send [] (or leave it out) for "all good"`);
    return;
  }
  if (!Array.isArray(reviews))
    throw new RunAborted(`${endpoint}: "reviews" is not an array: ${describe(reviews)}`);
  const tests = isObject(request) && Array.isArray(request.tests) ? request.tests.length : undefined;
  reviews.forEach((review, r) => {
    const where = `${endpoint}: reviews[${r}]`;
    if (!isObject(review)) throw new RunAborted(`${where} is not an object`);
    const index = review.test_index;
    if (!isInt(index)) throw new RunAborted(`${where}.test_index is ${describe(index)}, not an int`);
    if (tests !== undefined && index >= tests)
      throw new RunAborted(`${where}.test_index ${index} is out of range (${tests} tests in the request)`);
    if (index < 0)
      verdict.problems.push(`${where}.test_index ${index} is negative (Python would count from the end)`);
    if (!("functions" in review)) return;
    const functions = review.functions;
    if (!Array.isArray(functions))
      throw new RunAborted(`${where}.functions is not an array: ${describe(functions)}`);
    functions.forEach((fn, f) => {
      if (!isObject(fn) || typeof fn.function_name !== "string")
        throw new RunAborted(`${where}.functions[${f}] has no string function_name: ${describe(fn)}`);
      if ("reason" in fn && typeof fn.reason !== "string")
        verdict.problems.push(`${where}.functions[${f}].reason is ${describe(fn.reason)}, not a string`);
    });
  });
}

/** /ai/rank: `ranking` ints; the client indexes the request arrays with ranking[0]. */
export function judgeRank(endpoint: string, request: unknown, body: unknown, verdict: ClientVerdict): void {
  const object = requireObject(endpoint, body);
  const ranking = requireKey(endpoint, object, "ranking");
  if (ranking === null || (Array.isArray(ranking) && ranking.length === 0)) return; // client falls back to its own ranking
  if (!Array.isArray(ranking)) {
    // Falsy values make the client fall back; anything else is indexed and crashes.
    if (
      ranking === false ||
      ranking === 0 ||
      ranking === "" ||
      (isObject(ranking) && Object.keys(ranking).length === 0)
    )
      verdict.problems.push(`${endpoint}: "ranking" is ${describe(ranking)}, not an array`);
    else throw new RunAborted(`${endpoint}: "ranking" is ${describe(ranking)}, not an array`);
    return;
  }
  const req = isObject(request) ? request : {};
  const size = Array.isArray(req.diffs)
    ? req.diffs.length
    : Array.isArray(req.optimization_ids)
      ? req.optimization_ids.length
      : undefined;
  const [first] = ranking;
  if (!isInt(first)) throw new RunAborted(`${endpoint}: ranking[0] is ${describe(first)}, not an int index`);
  if (size !== undefined && first >= size)
    throw new RunAborted(`${endpoint}: ranking[0] = ${first} is out of range (${size} candidates)`);
  ranking.forEach((value, i) => {
    if (!isInt(value)) verdict.problems.push(`${endpoint}: ranking[${i}] is ${describe(value)}, not an int`);
    else if (value < 0 || (size !== undefined && value >= size))
      verdict.problems.push(
        `${endpoint}: ranking[${i}] = ${value} is out of range 0..${size === undefined ? "?" : size - 1}`,
      );
  });
}

/** /ai/optimization_review: `review` (its absence is caught by the caller: a failed call). */
export function judgeOptimizationReview(endpoint: string, body: unknown, verdict: ClientVerdict): void {
  if (!isObject(body) || typeof body.review !== "string")
    throw new FailedCall(
      `${endpoint}: "review" is ${isObject(body) ? describe(body.review) : "absent (body not an object)"}, not a string`,
    );
  if (!["high", "medium", "low", ""].includes(body.review))
    verdict.problems.push(
      `${endpoint}: review ${describe(body.review)} is not high|medium|low (shown as Unknown)`,
    );
  if ("review_explanation" in body && typeof body.review_explanation !== "string")
    verdict.problems.push(
      `${endpoint}: review_explanation is ${describe(body.review_explanation)}, not a string`,
    );
}

/** /ai/explain: `explanation` string (empty = keep the candidate's own explanation). */
export function judgeExplain(endpoint: string, body: unknown, verdict: ClientVerdict): void {
  const explanation = requireKey(endpoint, requireObject(endpoint, body), "explanation");
  if (typeof explanation !== "string")
    verdict.problems.push(`${endpoint}: explanation is ${describe(explanation)}, not a string`);
}

/** /ai/workflow-gen: `.get("workflow_steps")`; any failure silently falls back to a template. */
export function judgeWorkflowGen(endpoint: string, body: unknown, verdict: ClientVerdict): void {
  if (!isObject(body)) throw new FailedCall(`${endpoint}: 200 body is not a JSON object: ${describe(body)}`);
  if ("workflow_steps" in body && typeof body.workflow_steps !== "string")
    verdict.problems.push(`${endpoint}: workflow_steps is ${describe(body.workflow_steps)}, not a string`);
}
