import { parse as parseYaml } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rankBySpeedup, workflowSteps } from "../../src/optimization/assistant-service.js";
import { type CodeflashHarness, startCodeflashHarness, vector } from "./codeflash-fixture.js";

const rank = vector("10").request as { diffs: string[]; speedups: number[] };

describe("rank, review and workflow-gen", () => {
  let h: CodeflashHarness;

  beforeAll(async () => {
    h = await startCodeflashHarness({ optimization: { judge_model: "coder-b" } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.upstream.reset());

  it("rank asks the judge, keeps its in-range picks and completes the order by speedup", async () => {
    h.upstream.always("chat", { reply: 'My ranking: {"ranking": [2, 7, 2]}' });
    const res = await h.post("/ai/rank", rank);
    expect(res.body).toEqual({ ranking: [2, 1, 0] });
    expect(h.upstream.requestsTo("chat")[0]?.body.model).toBe("coder-b");
  });

  it("rank falls back to the measured speedups when the judge fails", async () => {
    h.upstream.always("chat", { status: 503 });
    const res = await h.post("/ai/rank", rank);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ranking: [1, 0, 2] });
  });

  it("optimization_review retries an unusable answer once, then fails with an {error}", async () => {
    h.upstream.script(
      "chat",
      { reply: "I think it is good." },
      { reply: '{"review": "medium", "review_explanation": "ok"}' },
    );
    const ok = await h.post("/ai/optimization_review", vector("12").request);
    expect(ok.body).toEqual({ review: "medium", review_explanation: "ok" });
    h.upstream.always("chat", { reply: '{"review": "excellent"}' });
    const bad = await h.post("/ai/optimization_review", vector("12").request);
    expect(bad.status).toBe(502);
    expect(typeof (bad.body as { error: unknown }).error).toBe("string");
  });

  it("workflow-gen returns the YAML steps of the model's workflow", async () => {
    h.upstream.always("chat", {
      reply:
        "```yaml\njobs:\n  optimize:\n    steps:\n      - uses: actions/checkout@v4\n      - name: Optimize\n        run: codeflash --all\n        env:\n          CODEFLASH_API_KEY: ${{ secrets.CODEFLASH_API_KEY }}\n```",
    });
    const res = await h.post("/ai/workflow-gen", {
      repo_files: { "pyproject.toml": "[tool.codeflash]\nmodule-root = 'src'" },
      directory_structure: { src: {} },
      codeflash_config: { module_root: "src", tests_root: "tests", benchmark_mode: false },
    });
    expect(res.status).toBe(200);
    const steps = parseYaml((res.body as { workflow_steps: string }).workflow_steps) as Record<
      string,
      unknown
    >[];
    expect(steps[0]).toEqual({ uses: "actions/checkout@v4" });
    expect(steps[1]?.run).toBe("codeflash --all");
  });
});

describe("rank and workflow helpers", () => {
  it("ranks by speedup, unknown last, ties by smaller diff", () => {
    expect(
      rankBySpeedup({ trace_id: "t", diffs: ["aaaa", "a", "aa", "b"], speedups: [2, 2, null, 3] }),
    ).toEqual([3, 1, 0, 2]);
  });

  it("accepts only a list of uses/run steps", () => {
    expect(workflowSteps("```yaml\n- run: echo hi\n```")).toBe("- run: echo hi\n");
    expect(workflowSteps("steps:\n  - uses: actions/setup-python@v5\n")).toBe(
      "- uses: actions/setup-python@v5\n",
    );
    expect(workflowSteps("```yaml\nname: x\n```")).toBeUndefined();
    expect(workflowSteps("```yaml\n- [unbalanced\n```")).toBeUndefined();
  });
});
