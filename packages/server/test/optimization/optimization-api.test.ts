import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { request } from "../helpers/test-server.js";
import {
  type CodeflashHarness,
  candidateAnswer,
  candidateReplies,
  startCodeflashHarness,
  userMessage,
  vector,
} from "./codeflash-fixture.js";

const optimize = vector("01").request as Record<string, unknown>;
const source = optimize.source_code as string;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function expectClientError(res: { status: number; body: unknown }, status: number) {
  expect(res.status).toBe(status);
  const body = res.body as { error: unknown };
  expect(typeof body.error).toBe("string");
  expect((body.error as string).length).toBeGreaterThan(0);
}

describe("optimization API (open mode)", () => {
  let h: CodeflashHarness;

  beforeAll(async () => {
    h = await startCodeflashHarness({
      optimization: {
        models: [
          { model: "coder", weight: 2 },
          { model: "coder-b", weight: 1 },
        ],
        variants: { experiment: { models: [{ model: "coder-b", weight: 1 }] } },
      },
    });
  });
  afterAll(() => h.stop());
  afterEach(() => h.upstream.reset());

  it("spreads n_candidates over the weighted models, each candidate with a fresh id and its model", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    const res = await h.post("/ai/optimize", { ...optimize, trace_id: "weights-1" });
    expect(res.status).toBe(200);
    const { optimizations } = res.body as { optimizations: Record<string, unknown>[] };
    expect(optimizations).toHaveLength(6);
    const calls = h.upstream.requestsTo("chat").map((r) => r.body.model);
    expect(calls.filter((m) => m === "coder")).toHaveLength(4);
    expect(calls.filter((m) => m === "coder-b")).toHaveLength(2);
    expect(new Set(optimizations.map((o) => o.optimization_id)).size).toBe(6);
    for (const o of optimizations) {
      expect(o.optimization_id).toMatch(uuid);
      expect(o.parent_id).toBeNull();
      expect(["coder", "coder-b"]).toContain(o.model);
      expect(o.source_code).toMatch(/^```python:dataproc\/dedupe\.py\n/);
      expect(o.explanation).toContain("Precomputed the keys once");
    }
  });

  it("drops answers the client would reject and records why in the trace", async () => {
    const good = candidateAnswer(source, 1);
    h.upstream.script(
      "chat",
      { reply: good },
      { reply: "```python:dataproc/dedupe.py\ndef find_duplicates(items:\n    return []\n```" },
      { reply: source.replace("```python:", "Same code:\n```python:") },
      { reply: good },
    );
    const res = await h.post("/ai/optimize", { ...optimize, trace_id: "drops-1", n_candidates: 4 });
    expect(res.status).toBe(200);
    expect((res.body as { optimizations: unknown[] }).optimizations).toHaveLength(1);
    const trace = await request(h.server.url, "/v1/ai/traces/drops-1");
    expect(trace.status).toBe(200);
    const [call] = (trace.body as { calls: { drops: { reason: string }[]; model_calls: unknown[] }[] }).calls;
    expect(call?.model_calls).toHaveLength(4);
    expect(call?.drops.map((d) => d.reason).sort()).toEqual(["duplicate", "syntax_error", "unchanged"]);
  });

  it("answers every spelling and seed alias with the real endpoint's shape", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    for (const path of ["/ai/optimize-line-profiler", "/ai/optimize_line_profiler"]) {
      const res = await h.post(path, { ...(vector("04").request as object), n_candidates: 1 });
      expect(res.status, path).toBe(200);
      expect(Object.keys(res.body as object)).toEqual(["optimizations"]);
    }
    const item = (vector("05").request as Record<string, unknown>[])[0] as Record<string, unknown>;
    for (const [path, body] of [
      ["/ai/refinement", [item]],
      ["/ai/refine", item],
    ] as const) {
      const res = await h.post(path, body);
      expect(res.status, path).toBe(200);
      const { refinements } = res.body as { refinements: { parent_id: string }[] };
      expect(refinements.length).toBeGreaterThan(0);
      for (const r of refinements) expect(r.parent_id).toBe(item.optimization_id);
    }
    const repair = vector("06").request as Record<string, unknown>;
    h.upstream.always("chat", { reply: candidateReplies(repair.original_source_code as string) });
    for (const path of ["/ai/code_repair", "/ai/code-repair", "/ai/repair"]) {
      const res = await h.post(path, repair);
      expect(res.status, path).toBe(200);
      expect((res.body as { parent_id: string }).parent_id).toBe(repair.optimization_id);
      expect((res.body as { optimization_id: string }).optimization_id).not.toBe(repair.optimization_id);
    }
  });

  it("is tolerant: unknown fields, nulls, the legacy python_version, Python's NaN", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    const res = await h.post("/ai/optimize", {
      ...optimize,
      trace_id: "tolerant-1",
      n_candidates: 1,
      language_version: null,
      python_version: "3.9.1",
      dependency_code: null,
      brand_new_field: { anything: [1, 2] },
    });
    expect(res.status).toBe(200);
    expect(userMessage(h.upstream.requestsTo("chat")[0] as never)).toContain("3.9.1");

    const logged = await request(h.server.url, "/ai/log_features", {
      method: "POST",
      headers: { authorization: "Bearer cf-x", "content-type": "application/json" },
      rawBody:
        '{"trace_id": "tolerant-1", "speedup_ratio": {"a": NaN, "b": Infinity, "c": -Infinity}, "original_runtime": 10, "optimized_runtime": {"a": null}, "is_correct": {"a": true}, "metadata": {"best_optimization_id": "a"}, "note": "NaN stays text"}',
    });
    expect(logged.status, logged.text).toBe(200);
  });

  it("answers bad input with a non-200 {error} and never a broken 200", async () => {
    expectClientError(await h.post("/ai/optimize", { ...optimize, source_code: undefined }), 400);
    expectClientError(await h.post("/ai/optimize", { ...optimize, source_code: "def f(): pass" }), 400);
    expectClientError(await h.post("/ai/refinement", []), 400);
    expectClientError(await h.post("/ai/no_such_endpoint", {}), 404);
    const malformed = await request(h.server.url, "/ai/optimize", {
      method: "POST",
      headers: { authorization: "Bearer cf-x", "content-type": "application/json" },
      rawBody: '{"source_code": ',
    });
    expectClientError(malformed, 400);
  });

  it("an upstream failure is a non-200 {error} on every kind of endpoint", async () => {
    h.upstream.always("chat", { status: 500, errorMessage: "GPU on fire" });
    for (const [path, body] of [
      ["/ai/optimize", { ...optimize, n_candidates: 2 }],
      ["/ai/code_repair", vector("06").request],
      ["/ai/testgen", vector("08").request],
      ["/ai/explain", vector("11").request],
      ["/ai/optimization_review", vector("12").request],
    ] as const) {
      const res = await h.post(path, body);
      expect(res.status, path).toBeGreaterThanOrEqual(500);
      expectClientError(res, res.status);
    }
  });

  it("serves one client's concurrent calls side by side, not one after another", async () => {
    const latencyMs = 600;
    h.upstream.always("chat", { reply: candidateReplies(source), latencyMs });
    const body = (i: number) => ({ ...optimize, trace_id: `concurrent-${i}`, n_candidates: 1 });
    const one = performance.now();
    expect((await h.post("/ai/optimize", body(0))).status).toBe(200);
    const single = performance.now() - one;
    const start = performance.now();
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => h.post("/ai/optimize", body(i))));
    const five = performance.now() - start;
    for (const r of results) expect(r.status).toBe(200);
    // Serialized, five calls would take five latencies; side by side about one.
    expect(five).toBeLessThan(single + 2 * latencyMs);
  });

  it("replays a stored trace with rerun_trace_id without calling a model", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    const first = await h.post("/ai/optimize", { ...optimize, trace_id: "original-run", n_candidates: 3 });
    expect(first.status).toBe(200);
    const calls = h.upstream.requestsTo("chat").length;
    const rerun = await h.post("/ai/optimize", {
      ...optimize,
      trace_id: "rerun-run",
      n_candidates: 3,
      rerun_trace_id: "original-run",
    });
    expect(rerun.status).toBe(200);
    expect(h.upstream.requestsTo("chat")).toHaveLength(calls);
    const codes = (r: typeof first) =>
      (r.body as { optimizations: { source_code: string }[] }).optimizations.map((o) => o.source_code);
    const ids = (r: typeof first) =>
      (r.body as { optimizations: { optimization_id: string }[] }).optimizations.map(
        (o) => o.optimization_id,
      );
    expect(codes(rerun)).toEqual(codes(first));
    expect(ids(rerun).some((id) => ids(first).includes(id))).toBe(false);
    const trace = await request(h.server.url, "/v1/ai/traces/rerun-run");
    const call = (trace.body as { calls: { replayed_from: string; model_calls: { replayed: boolean }[] }[] })
      .calls[0];
    expect(call?.replayed_from).toBe("original-run");
    expect(call?.model_calls.every((m) => m.replayed)).toBe(true);

    const missing = await h.post("/ai/optimize", {
      ...optimize,
      trace_id: "x",
      rerun_trace_id: "never-stored",
    });
    expectClientError(missing, 404);
  });

  it("replays concurrent calls of one endpoint from distinct stored calls, in order", async () => {
    const item = (vector("05").request as Record<string, unknown>[])[0] as Record<string, unknown>;
    const original = item.original_source_code as string;
    const refine = (traceId: string, rerun: string | null) =>
      h.post("/ai/refinement", [{ ...item, trace_id: traceId, rerun_trace_id: rerun }]);
    const codes = (res: Awaited<ReturnType<typeof refine>>) =>
      (res.body as { refinements: { source_code: string }[] }).refinements.map((r) => r.source_code).sort();
    h.upstream.always("chat", { reply: candidateReplies(original) });
    const first = codes(await refine("refine-original", null));
    const second = codes(await refine("refine-original", null));
    expect(first).not.toEqual(second);
    const calls = h.upstream.requestsTo("chat").length;
    const replays = await Promise.all([
      refine("refine-rerun", "refine-original"),
      refine("refine-rerun", "refine-original"),
    ]);
    expect(h.upstream.requestsTo("chat")).toHaveLength(calls);
    expect(replays.map(codes).sort()).toEqual([first, second].sort());
  });

  it("stores every call under its trace: request, prompts, raw outputs, candidates, timings", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    await h.post("/ai/optimize", { ...optimize, trace_id: "traced-1", n_candidates: 2 });
    const res = await request(h.server.url, "/v1/ai/traces/traced-1");
    expect(res.status).toBe(200);
    const call = (res.body as { calls: Record<string, unknown>[] }).calls[0] as {
      endpoint: string;
      request: { source_code: string };
      model_calls: {
        prompt: { user: string; system: string };
        output: string;
        duration_ms: number;
        model: string;
      }[];
      candidates: { optimization_id: string }[];
      duration_ms: number;
    };
    expect(call.endpoint).toBe("optimize");
    expect(call.request.source_code).toBe(source);
    expect(call.model_calls).toHaveLength(2);
    expect(call.model_calls[0]?.prompt.user).toContain("dataproc/dedupe.py");
    expect(call.model_calls[0]?.output).toContain("Here is a faster version");
    expect(call.candidates).toHaveLength(2);
    expect(typeof call.duration_ms).toBe("number");
    const missing = await request(h.server.url, "/v1/ai/traces/never-seen");
    expect(missing.status).toBe(404);
  });

  it("selects the variant by experiment group and reports the A/B outcome per variant and model", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    const base = "5d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f";
    const arm = async (suffix: string, group: string) => {
      const res = await h.post("/ai/optimize", {
        ...optimize,
        n_candidates: 2,
        trace_id: `${base}${suffix}`,
        experiment_metadata: { id: "exp-42", group },
      });
      expect(res.status).toBe(200);
      return (res.body as { optimizations: { optimization_id: string; model: string }[] }).optimizations;
    };
    const control = await arm("EXP0", "control");
    const experiment = await arm("EXP1", "experiment");
    // The experiment variant is configured to use coder-b only.
    expect(experiment.every((c) => c.model === "coder-b")).toBe(true);
    const report = async (suffix: string, candidates: typeof control, speedups: number[]) => {
      const res = await h.post("/ai/log_features", {
        trace_id: `${base}${suffix}`,
        speedup_ratio: Object.fromEntries(candidates.map((c, i) => [c.optimization_id, speedups[i] ?? null])),
        original_runtime: 1000,
        optimized_runtime: {},
        is_correct: Object.fromEntries(candidates.map((c, i) => [c.optimization_id, i === 0])),
        metadata: { best_optimization_id: candidates[0]?.optimization_id },
      });
      expect(res.status).toBe(200);
    };
    await report("EXP0", control, [1.5, 0.2]);
    await report("EXP1", experiment, [3.0, 0.1]);
    const res = await request(h.server.url, "/v1/ai/experiments/exp-42");
    expect(res.status).toBe(200);
    const body = res.body as {
      variants: { variant: string; wins: number; mean_best_speedup: number; correct_rate: number }[];
      models: { model: string; variant: string; wins: number }[];
    };
    const byVariant = Object.fromEntries(body.variants.map((v) => [v.variant, v]));
    expect(byVariant.experiment?.wins).toBe(1);
    expect(byVariant.control?.wins).toBe(0);
    expect(byVariant.experiment?.mean_best_speedup).toBe(3);
    expect(byVariant.control?.correct_rate).toBe(0.5);
    expect(body.models.find((m) => m.variant === "experiment")?.model).toBe("coder-b");
    expect((await request(h.server.url, "/v1/ai/experiments/unknown")).status).toBe(404);
  });
});

describe("optimization API with auth required", () => {
  let h: CodeflashHarness;
  let key: string;

  beforeAll(async () => {
    h = await startCodeflashHarness({ auth: { required: true } });
    key = (
      await createApiKey(h.server.services.store.apiKeys, {
        name: "cli",
        scopes: ["inference"],
        prefix: "cf-",
      })
    ).key;
  });
  afterAll(() => h.stop());

  it("accepts the client's cf- key and answers a wrong one with a 401 {error}", async () => {
    h.upstream.always("chat", { reply: candidateReplies(source) });
    expect(key.startsWith("cf-")).toBe(true);
    const ok = await h.post(
      "/ai/optimize",
      { ...optimize, n_candidates: 1 },
      { authorization: `Bearer ${key}` },
    );
    expect(ok.status).toBe(200);
    expectClientError(await h.post("/ai/optimize", optimize, { authorization: "Bearer cf-not-a-key" }), 401);
  });
});
