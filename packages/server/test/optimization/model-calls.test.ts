/**
 * What reaches the model and how long the server waits for it: prompts carry everything the
 * request carries, every model call is bounded, and a client that hangs up cancels generation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spreadOverModels } from "../../src/optimization/sampling.js";
import { request } from "../helpers/test-server.js";
import {
  type CodeflashHarness,
  candidateReplies,
  startCodeflashHarness,
  userMessage,
  vector,
} from "./codeflash-fixture.js";

describe("model calls of the optimization API", () => {
  let h: CodeflashHarness;

  beforeAll(async () => {
    h = await startCodeflashHarness({ optimization: { call_timeout_seconds: 1 } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.upstream.reset());

  const promptOf = (index = 0) => userMessage(h.upstream.requestsTo("chat")[index] as never);

  it("feeds the prompts with runtimes, speedups, profiles, test diffs and earlier candidates", async () => {
    const refinement = vector("05").request as Record<string, string>[];
    h.upstream.always("chat", { reply: candidateReplies(refinement[0]?.original_source_code ?? "") });
    await h.post("/ai/refinement", refinement);
    for (const text of [
      "1227%",
      "38.4 milliseconds",
      "2.89 milliseconds",
      "## Total time: 0.00289 s",
      "MAX_REPORTED = 50",
    ])
      expect(promptOf()).toContain(text);
    expect(promptOf()).toContain(refinement[0]?.optimized_explanation);

    h.upstream.reset();
    const repair = vector("06").request as {
      original_source_code: string;
      test_diffs: { candidate_pytest_error: string }[];
    };
    h.upstream.always("chat", { reply: candidateReplies(repair.original_source_code) });
    await h.post("/ai/code_repair", repair);
    expect(promptOf()).toContain("ZeroDivisionError: float division by zero");
    expect(promptOf()).toContain("[0.167, 0.333, 0.5]");

    h.upstream.reset();
    const adaptive = vector("07").request as { original_source_code: string };
    h.upstream.always("chat", { reply: candidateReplies(adaptive.original_source_code) });
    const res = await h.post("/ai/adaptive_optimize", adaptive);
    expect(res.status).toBe(200);
    expect(promptOf()).toContain("Performance gain: 1228%");
    expect(promptOf()).toContain("Performance gain: 1392%");
    expect(promptOf()).toMatch(/REFINE/);
  });

  it("bounds every model call: an upstream slower than call_timeout_seconds is a 504 {error}, not a hang", async () => {
    h.upstream.always("chat", { reply: "late", latencyMs: 5_000 });
    const started = performance.now();
    const res = await h.post("/ai/optimize", { ...(vector("01").request as object), n_candidates: 2 });
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(res.status).toBe(504);
    expect((res.body as { error: string }).error).toMatch(/did not answer within 1 s/);
  });

  it("a client that hangs up cancels the model calls", async () => {
    h.upstream.always("chat", { reply: "slow", latencyMs: 800 });
    const controller = new AbortController();
    const pending = fetch(`${h.server.url}/ai/optimize`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer cf-x" },
      body: JSON.stringify({ ...(vector("01").request as object), trace_id: "hang-up", n_candidates: 2 }),
      signal: controller.signal,
    }).catch(() => undefined);
    const calls = await h.upstream.waitForRequests("chat", 2);
    controller.abort();
    await pending;
    const outcomes = await Promise.all(calls.map((call) => call.ended));
    expect(outcomes).toEqual(["client-closed", "client-closed"]);
    // The failed call is still traced, with the reason.
    await expect
      .poll(async () => (await request(h.server.url, "/v1/ai/traces/hang-up")).status, { timeout: 2_000 })
      .toBe(200);
  });
});

describe("spreadOverModels", () => {
  it("splits by weight (largest remainder) and interleaves", () => {
    const models = [
      { model: "a", weight: 2 },
      { model: "b", weight: 1 },
    ];
    expect(spreadOverModels(6, models)).toEqual(["a", "b", "a", "a", "b", "a"]);
    expect(spreadOverModels(1, models)).toEqual(["a"]);
    expect(spreadOverModels(0, models)).toEqual([]);
    const three = spreadOverModels(7, [
      { model: "x", weight: 1 },
      { model: "y", weight: 1 },
      { model: "z", weight: 1 },
    ]);
    expect(three.filter((m) => m === "x")).toHaveLength(3);
    expect(three.filter((m) => m === "y")).toHaveLength(2);
  });
});
