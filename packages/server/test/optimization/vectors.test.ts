/**
 * Every request vector of the protocol, sent over HTTP as the client sends it, with the scripted
 * upstream answering like a chat model; each response judged by the client's own rules.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Behaviour } from "../helpers/scripted-upstream/index.js";
import { ClientRun } from "../helpers/codeflash-client/index.js";
import {
  type CodeflashHarness,
  candidateReplies,
  loadVectors,
  startCodeflashHarness,
  userMessage,
} from "./codeflash-fixture.js";

const PYTHON_TESTS = [
  "Here are the tests:",
  "```python",
  "from dataproc.dedupe import find_duplicates",
  "",
  "",
  "def test_mixed_case():",
  '    assert find_duplicates(["Apple", "apple ", "pear"]) == ["Apple"]',
  "",
  "",
  "def test_large_input():",
  '    data = [f"item{i % 50}" for i in range(500)]',
  "    assert len(find_duplicates(data)) == 50",
  "```",
].join("\n");

const TYPESCRIPT_TESTS = [
  "```typescript",
  'import { describe, expect, it } from "vitest";',
  'import { topKFrequent } from "../src/utils/topk.js";',
  "",
  'describe("topKFrequent", () => {',
  '  it("returns the most frequent words first", () => {',
  '    expect(topKFrequent(["a", "b", "a", "c", "b", "a"], 2)).toEqual(["a", "b"]);',
  "  });",
  "});",
  "```",
].join("\n");

/** What the scripted model answers for each vector's endpoint. */
function replyFor(endpoint: string, request: unknown): Behaviour {
  const body = (Array.isArray(request) ? request[0] : request) as Record<string, unknown>;
  switch (endpoint) {
    case "/ai/optimize":
    case "/ai/optimize-line-profiler":
      return { reply: candidateReplies(body.source_code as string) };
    case "/ai/refinement":
    case "/ai/code_repair":
    case "/ai/adaptive_optimize":
      return { reply: candidateReplies(body.original_source_code as string) };
    case "/ai/testgen":
      return { reply: body.language === "python" ? PYTHON_TESTS : TYPESCRIPT_TESTS };
    case "/ai/testgen_review":
      return {
        reply:
          'Review:\n```json\n{"reviews": [{"test_index": 0, "functions": [{"function_name": "test_unhashable", "reason": "fails on the original: lists have no strip()"}]}, {"test_index": 9, "functions": [{"function_name": "test_x"}]}]}\n```',
      };
    case "/ai/explain":
      return {
        reply:
          "Explanation: the optimized version indexes normalized keys once, replacing the quadratic scan.",
      };
    case "/ai/optimization_review":
      return {
        reply: '{"review": "High", "review_explanation": "Large measured speedup with full coverage."}',
      };
    default:
      return { reply: "unused" };
  }
}

describe("codeflash protocol vectors", () => {
  let h: CodeflashHarness;
  const run = new ClientRun();

  beforeAll(async () => {
    h = await startCodeflashHarness();
  });
  afterAll(() => h.stop());

  for (const vector of loadVectors()) {
    it(`${vector.file}: ${vector.endpoint} is accepted by the client`, async () => {
      h.upstream.reset();
      h.upstream.always("chat", replyFor(vector.endpoint, vector.request));
      const res = await h.post(vector.endpoint, vector.request);
      const verdict = await run.judge(vector.endpoint, vector.request, res.status, res.text);
      expect(verdict.problems).toEqual([]);
      expect(verdict.outcome, res.text).toBe("accepted");

      const body = res.body as Record<string, unknown>;
      const request = vector.request as Record<string, unknown>;
      switch (vector.endpoint) {
        case "/ai/optimize":
        case "/ai/optimize-line-profiler":
          expect(verdict.keptCandidates).toHaveLength(request.n_candidates as number);
          break;
        case "/ai/refinement":
        case "/ai/code_repair":
        case "/ai/adaptive_optimize":
          expect(verdict.keptCandidates.length).toBeGreaterThan(0);
          break;
        case "/ai/testgen":
          if (request.language === "python") {
            expect(body.instrumented_behavior_tests).toContain("codeflash_wrap(");
            expect(body.instrumented_behavior_tests).toContain("tests.test_find_duplicates__unit_test_0");
            expect(body.generated_tests).toContain("from dataproc.dedupe import find_duplicates");
          } else {
            expect(body.generated_tests).toContain('from "../src/utils/topk.js"');
          }
          break;
        case "/ai/testgen_review":
          // The out-of-range index the model invented is not passed on.
          expect(body).toEqual({
            reviews: [
              {
                test_index: 0,
                functions: [
                  {
                    function_name: "test_unhashable",
                    reason: "fails on the original: lists have no strip()",
                  },
                ],
              },
            ],
          });
          break;
        case "/ai/rank":
          // No judge configured: best measured speedup first.
          expect(body).toEqual({ ranking: [1, 0, 2] });
          break;
        case "/ai/optimization_review":
          expect(body.review).toBe("high");
          break;
        case "/ai/explain":
          expect(body.explanation).toMatch(/^the optimized version indexes/);
          break;
      }
    });
  }

  it("14: is_numerical_code asks the model for JIT/vectorized rewrites", async () => {
    const jit = loadVectors().find((v) => v.file.startsWith("14"));
    h.upstream.reset();
    h.upstream.always("chat", replyFor("/ai/optimize", jit?.request));
    await h.post("/ai/optimize", jit?.request);
    const prompt = userMessage(h.upstream.requestsTo("chat")[0] as never);
    expect(prompt).toMatch(/numba|njit/);
    const plain = loadVectors().find((v) => v.file.startsWith("01"));
    h.upstream.reset();
    h.upstream.always("chat", replyFor("/ai/optimize", plain?.request));
    await h.post("/ai/optimize", plain?.request);
    expect(userMessage(h.upstream.requestsTo("chat")[0] as never)).not.toMatch(/numba|njit/);
  });
});
