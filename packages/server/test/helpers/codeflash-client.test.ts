/**
 * The codeflash client checker must be able to fail: every rule is fed a good and a bad body.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  canonicalEndpoint,
  ClientRun,
  compilePythonBatch,
  judgeResponse,
  languageOfTag,
  parseMarkdownBlocks,
  syntaxCheckOf,
  TMP_DIR_PLACEHOLDER,
} from "./codeflash-client/index.js";

const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "optimization", "vectors");

/** The request of a protocol test vector (spec/codeflash-vectors, copied next to the /ai tests). */
function vectorRequest(prefix: string): Record<string, unknown> & unknown[] {
  const file = [
    "01_optimize_python.json",
    "02_optimize_javascript.json",
    "03_optimize_typescript_multifile.json",
    "04_optimize_line_profiler_python.json",
    "05_refinement_python.json",
    "06_code_repair_python.json",
    "07_adaptive_optimize_python.json",
    "08_testgen_python.json",
    "09_testgen_typescript.json",
    "10_rank.json",
    "11_explain.json",
    "12_optimization_review.json",
    "13_testgen_review.json",
  ].find((name) => name.startsWith(prefix));
  if (file === undefined) throw new Error(`no vector ${prefix}`);
  return (
    JSON.parse(readFileSync(join(VECTOR_DIR, file), "utf8")) as {
      request: Record<string, unknown> & unknown[];
    }
  ).request;
}

const FAST_PY = [
  "def _normalize(value):",
  "    return value.strip().lower()",
  "",
  "",
  "def find_duplicates(items):",
  "    keys = [_normalize(item) for item in items]",
  "    seen = {}",
  "    for key in keys:",
  "        seen[key] = seen.get(key, 0) + 1",
  "    return [item for item, key in zip(items, keys) if seen[key] > 1][:MAX_REPORTED]",
].join("\n");

const ORIGINAL_PY = [
  "def _normalize(value):",
  "    return value.strip().lower()",
  "",
  "",
  "def find_duplicates(items):",
  "    duplicates = []",
  "    for i in range(len(items)):",
  "        for j in range(i + 1, len(items)):",
  "            if _normalize(items[i]) == _normalize(items[j]) and items[i] not in duplicates:",
  "                duplicates.append(items[i])",
  "    return duplicates[:MAX_REPORTED]",
].join("\n");

const fence = (tag: string, code: string) => `\`\`\`${tag}\n${code}\n\`\`\``;

function candidate(sourceCode: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source_code: sourceCode,
    explanation: "Counts keys once instead of comparing every pair.",
    optimization_id: randomUUID(),
    parent_id: null,
    model: "coder",
    ...extra,
  };
}

const json = (value: unknown) => JSON.stringify(value);
const optimizations = (...candidates: unknown[]) => json({ optimizations: candidates });

describe("markdown parsing (§5.2)", () => {
  it("uses the client's regex: mandatory tag, ':' before the path, trimmed path, CRLF kept in code", () => {
    expect(parseMarkdownBlocks("Intro\n```python:  a/b.py \r\nx = 1\r\n```\ntrailing prose")).toEqual([
      { tag: "python", path: "a/b.py", code: "x = 1\r" },
    ]);
    expect(parseMarkdownBlocks("```\nx = 1\n```")).toEqual([]);
    expect(parseMarkdownBlocks("```python a.py\nx = 1\n```")).toEqual([]);
    expect(parseMarkdownBlocks("```c++\nint x;\n```")).toEqual([]);
    expect(parseMarkdownBlocks("~~~python\nx = 1\n~~~")).toEqual([]);
    expect(parseMarkdownBlocks("```python:a.py\n```")).toEqual([]);
    expect(parseMarkdownBlocks("```python:a.py\n\n```")).toEqual([{ tag: "python", path: "a.py", code: "" }]);
    // Four backticks happen to match: the extra one is skipped as prose.
    expect(parseMarkdownBlocks("````python\nx = 1\n```")).toEqual([{ tag: "python", code: "x = 1" }]);
    expect(parseMarkdownBlocks("```python\nx = 1\n```\n```js:b.js\nlet y;\n```")).toEqual([
      { tag: "python", code: "x = 1" },
      { tag: "js", path: "b.js", code: "let y;" },
    ]);
    // The code ends at the first line starting with three backticks.
    expect(parseMarkdownBlocks('```python:a.py\ns = """\n```inner\n"""\n```')[0]?.code).toBe('s = """');
  });

  it("resolves tags like the client: extensions, then names, case-insensitive; others are unknown", () => {
    for (const tag of ["python", "Python", "py", "pyw"]) expect(languageOfTag(tag)).toBe("python");
    for (const tag of ["js", "jsx", "mjs", "cjs", "javascript", "JavaScript"])
      expect(languageOfTag(tag)).toBe("javascript");
    for (const tag of ["ts", "tsx", "mts", "typescript"]) expect(languageOfTag(tag)).toBe("typescript");
    expect(languageOfTag("java")).toBe("java");
    expect(languageOfTag("go")).toBe("go");
    for (const tag of ["text", "json", "bash", "diff", "shell", "yaml", "rust", "cts"])
      expect(languageOfTag(tag)).toBeUndefined();
  });

  it("lets the path's extension pick the JS/TS grammar, the tag only without a path", () => {
    const grammar = (tag: string, path?: string) => {
      const check = syntaxCheckOf(
        path === undefined ? { tag, code: "" } : { tag, path, code: "" },
        languageOfTag(tag)!,
      );
      return check.kind === "tree-sitter" ? check.grammar : check.kind;
    };
    expect(grammar("typescript", "src/a.ts")).toBe("typescript");
    expect(grammar("typescript", "src/a.tsx")).toBe("tsx");
    expect(grammar("typescript", "src/a.js")).toBe("javascript");
    expect(grammar("typescript", "src/a.mts")).toBe("javascript");
    expect(grammar("javascript", "src/a.ts")).toBe("typescript");
    expect(grammar("typescript")).toBe("typescript");
    expect(grammar("javascript")).toBe("javascript");
    expect(grammar("python", "a.js")).toBe("python");
  });
});

describe("CPython compile()", () => {
  it("checks a batch in one python3 process", async () => {
    const [ok, syntax, indent, returnOutside] = await compilePythonBatch([
      "x = 1\n",
      "def f(:\n    pass",
      "    x = 1",
      "return 1",
    ]);
    expect(ok).toBeNull();
    expect(syntax).toMatch(/SyntaxError/);
    expect(indent).toMatch(/IndentationError/);
    expect(returnOutside).toMatch(/SyntaxError/);
  });
});

describe("status and JSON (§1, §2)", () => {
  const request = vectorRequest("01");
  it("a 200 with a good candidate is accepted and kept", async () => {
    const good = candidate(fence("python:dataproc/dedupe.py", FAST_PY));
    const verdict = await judgeResponse("/ai/optimize", request, 200, optimizations(good));
    expect(verdict).toEqual({
      outcome: "accepted",
      problems: [],
      keptCandidates: [
        {
          optimization_id: good.optimization_id,
          parent_id: null,
          explanation: good.explanation,
          model: "coder",
          files: [{ path: "dataproc/dedupe.py", code: FAST_PY }],
        },
      ],
      droppedCandidates: [],
    });
  });

  it("a non-200 is a failed call; the body must be {error: string}", async () => {
    expect(await judgeResponse("/ai/optimize", request, 500, json({ error: "x" }))).toMatchObject({
      outcome: "failed_call",
      problems: [],
    });
    const html = await judgeResponse("/ai/optimize", request, 502, "<html>Bad gateway</html>");
    expect(html.outcome).toBe("failed_call");
    expect(html.problems).toHaveLength(1);
    const wrongShape = await judgeResponse("/ai/optimize", request, 400, json({ detail: "x" }));
    expect(wrongShape.problems).toHaveLength(1);
    // Only exactly 200 is success.
    const created = await judgeResponse("/ai/optimize", request, 201, optimizations());
    expect(created.outcome).toBe("failed_call");
  });

  it("a 200 whose body is not JSON, or lacks the required key, aborts the run", async () => {
    expect((await judgeResponse("/ai/optimize", request, 200, "Internal error")).outcome).toBe("run_aborted");
    expect((await judgeResponse("/ai/optimize", request, 200, "")).outcome).toBe("run_aborted");
    expect((await judgeResponse("/ai/optimize", request, 200, json({ candidates: [] }))).outcome).toBe(
      "run_aborted",
    );
    expect((await judgeResponse("/ai/optimize", request, 200, json([]))).outcome).toBe("run_aborted");
    expect((await judgeResponse("/ai/optimize", request, 200, json({ optimizations: null }))).outcome).toBe(
      "run_aborted",
    );
    const empty = await judgeResponse("/ai/optimize", request, 200, optimizations());
    expect(empty).toMatchObject({ outcome: "accepted", problems: [], keptCandidates: [] });
  });

  it("/ai/log_features accepts any status and body", async () => {
    expect(await judgeResponse("/ai/log_features", {}, 500, "oops")).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
    expect(await judgeResponse("/ai/log_features", {}, 200, "")).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
  });

  it("accepts - and _ spellings and the seed aliases, and refuses unknown names", () => {
    expect(canonicalEndpoint("/ai/optimize_line_profiler")).toBe("optimize-line-profiler");
    expect(canonicalEndpoint("optimize-line-profiler")).toBe("optimize-line-profiler");
    expect(canonicalEndpoint("/ai/refine")).toBe("refinement");
    expect(canonicalEndpoint("/ai/repair")).toBe("code_repair");
    expect(canonicalEndpoint("/ai/code-repair")).toBe("code_repair");
    expect(canonicalEndpoint("/ai/workflow_gen")).toBe("workflow-gen");
    expect(canonicalEndpoint("/ai/rewrite_jit")).toBe("rewrite_jit");
    expect(() => canonicalEndpoint("/ai/nope")).toThrow(/unknown endpoint/);
  });
});

describe("candidate step 1: parsing and syntax (§4, §5.3)", () => {
  const python = vectorRequest("01");
  const js = vectorRequest("02");
  const ts = vectorRequest("03");

  async function one(request: unknown, sourceCode: string, endpoint = "/ai/optimize") {
    return judgeResponse(endpoint, request, 200, optimizations(candidate(sourceCode)));
  }

  it("source_code missing or not a string aborts the run", async () => {
    const { source_code: _, ...noSource } = candidate("");
    expect((await judgeResponse("/ai/optimize", python, 200, optimizations(noSource))).outcome).toBe(
      "run_aborted",
    );
    const numeric = candidate("");
    numeric.source_code = 42;
    expect((await judgeResponse("/ai/optimize", python, 200, optimizations(numeric))).outcome).toBe(
      "run_aborted",
    );
    expect(
      (await judgeResponse("/ai/optimize", python, 200, optimizations("```python\nx=1\n```"))).outcome,
    ).toBe("run_aborted");
  });

  it("an untagged fence, or a space instead of ':', yields no block: dropped, not an abort", async () => {
    for (const source of [
      fence("", FAST_PY),
      `\`\`\`python dataproc/dedupe.py\n${FAST_PY}\n\`\`\``,
      FAST_PY,
    ]) {
      const verdict = await one(python, source);
      expect(verdict.outcome).toBe("accepted");
      expect(verdict.keptCandidates).toEqual([]);
      expect(verdict.droppedCandidates).toHaveLength(1);
      expect(verdict.droppedCandidates[0]?.reason).toMatch(/no tagged code block/);
      expect(verdict.problems).toHaveLength(1);
    }
  });

  it("an unknown fence tag aborts the run, even next to good candidates", async () => {
    const verdict = await judgeResponse(
      "/ai/optimize",
      python,
      200,
      optimizations(
        candidate(fence("python:dataproc/dedupe.py", FAST_PY)),
        candidate(`${fence("python:dataproc/dedupe.py", FAST_PY)}\n${fence("text", "It is O(n).")}`),
      ),
    );
    expect(verdict.outcome).toBe("run_aborted");
    expect(verdict.keptCandidates).toEqual([]);
    expect(verdict.problems.join("\n")).toMatch(/fence tag "text"/);
    for (const tag of ["json:a.json", "bash", "diff", "rust:src/lib.rs"])
      expect((await one(python, fence(tag, "x"))).outcome).toBe("run_aborted");
  });

  it("a block after a failing one is never looked at, so its unknown tag cannot abort", async () => {
    const verdict = await one(python, `${fence("python:a.py", "def f(:")}\n${fence("text", "hello")}`);
    expect(verdict.outcome).toBe("accepted");
    expect(verdict.droppedCandidates).toHaveLength(1);
  });

  it("Python blocks go through CPython compile(): indentation and syntax errors drop the candidate", async () => {
    const indented = FAST_PY.split("\n")
      .map((line) => `    ${line}`)
      .join("\n");
    for (const code of [
      indented,
      "def find_duplicates(items):\nreturn items",
      "def f(:\n    pass",
      "return 1",
    ]) {
      const verdict = await one(python, fence("python:dataproc/dedupe.py", code));
      expect(verdict.outcome).toBe("accepted");
      expect(verdict.keptCandidates).toEqual([]);
      expect(verdict.droppedCandidates[0]?.reason).toMatch(/python compile\(\)/);
    }
    // A JavaScript candidate tagged python is compiled as Python.
    const jsAsPython = await one(
      js,
      fence("python:lib/stats.js", "function movingAverage(v, w) { return []; }"),
    );
    expect(jsAsPython.keptCandidates).toEqual([]);
    // One bad block empties the whole candidate.
    const twoFiles = await one(
      python,
      `${fence("python:dataproc/dedupe.py", FAST_PY)}\n${fence("python:x.py", "if:")}`,
    );
    expect(twoFiles.keptCandidates).toEqual([]);
  });

  it("JavaScript paths get the JavaScript grammar: TypeScript syntax in a .js path is dropped", async () => {
    const plain = "function movingAverage(values, windowSize) {\n  return values.slice(windowSize);\n}";
    const typed =
      "function movingAverage(values: number[], windowSize: number): number[] {\n  return values;\n}";
    expect((await one(js, fence("javascript:lib/stats.js", plain))).keptCandidates).toHaveLength(1);
    expect((await one(js, fence("javascript:lib/stats.js", typed))).droppedCandidates).toHaveLength(1);
    // The path decides, not the tag.
    expect((await one(js, fence("typescript:lib/stats.js", typed))).droppedCandidates).toHaveLength(1);
    expect((await one(js, fence("typescript:lib/stats.mts", typed))).droppedCandidates).toHaveLength(1);
    // Without a path the tag decides.
    expect((await one(js, fence("typescript", typed))).keptCandidates).toHaveLength(1);
    expect((await one(js, fence("javascript", typed))).keptCandidates).toHaveLength(0);
    // Broken JavaScript.
    expect(
      (await one(js, fence("javascript:lib/stats.js", "function movingAverage(values {"))).keptCandidates,
    ).toEqual([]);
  });

  it("TypeScript: .ts parses TypeScript, .tsx accepts JSX, JSX in .ts is dropped", async () => {
    const tsCode = "export function countBy(words: string[]): Record<string, number> {\n  return {};\n}";
    const tsx =
      'export function Row({ name }: { name: string }) {\n  return <div className="row">{name}</div>;\n}';
    expect((await one(ts, fence("typescript:src/utils/count.ts", tsCode))).keptCandidates).toHaveLength(1);
    expect((await one(ts, fence("typescript:src/ui/row.tsx", tsx))).keptCandidates).toHaveLength(1);
    expect((await one(ts, fence("tsx:src/ui/row.tsx", tsx))).keptCandidates).toHaveLength(1);
    expect((await one(ts, fence("typescript:src/ui/row.ts", tsx))).keptCandidates).toEqual([]);
    expect(
      (await one(ts, fence("typescript:src/utils/count.ts", "export function countBy(words: string[] {")))
        .droppedCandidates[0]?.reason,
    ).toMatch(/tree-sitter typescript/);
  });

  it("Java and Go blocks use their tree-sitter grammars", async () => {
    const java = "public class A {\n  int f(int x) { return x + 1; }\n}";
    const go = "package main\n\nfunc f(x int) int {\n\treturn x + 1\n}";
    expect((await one({}, fence("java:src/A.java", java))).keptCandidates).toHaveLength(1);
    expect(
      (await one({}, fence("java:src/A.java", "public class A {\n  int f(int x) { return x + }\n}")))
        .keptCandidates,
    ).toEqual([]);
    expect((await one({}, fence("go:main.go", go))).keptCandidates).toHaveLength(1);
    expect(
      (await one({}, fence("go:main.go", "package main\n\nfunc f(x int) int {\n\treturn x +\n")))
        .keptCandidates,
    ).toEqual([]);
  });
});

describe("candidate step 2: field types (§4)", () => {
  const request = vectorRequest("01");
  const code = fence("python:dataproc/dedupe.py", FAST_PY);

  it.each([
    ["explanation missing", { explanation: undefined }],
    ["explanation null", { explanation: null }],
    ["optimization_id missing", { optimization_id: undefined }],
    ["optimization_id a number", { optimization_id: 7 }],
    ["parent_id a number", { parent_id: 5 }],
    ["model an object", { model: { name: "x" } }],
  ])("%s: dropped with a warning", async (_name, extra) => {
    const item = JSON.parse(json(candidate(code, extra))) as Record<string, unknown>;
    const verdict = await judgeResponse("/ai/optimize", request, 200, optimizations(item));
    expect(verdict.outcome).toBe("accepted");
    expect(verdict.keptCandidates).toEqual([]);
    expect(verdict.droppedCandidates).toHaveLength(1);
    expect(verdict.problems).toHaveLength(1);
  });

  it("parent_id and model may be null or absent", async () => {
    const { parent_id: _p, model: _m, ...bare } = candidate(code);
    const verdict = await judgeResponse(
      "/ai/optimize",
      request,
      200,
      optimizations(
        bare,
        candidate(fence("python:dataproc/dedupe.py", `${FAST_PY}\n\nX = 1`), { model: null }),
      ),
    );
    expect(verdict.problems).toEqual([]);
    expect(verdict.keptCandidates.map((c) => c.model)).toEqual([null, null]);
  });
});

describe("candidate step 3: no real change (§4, §9.5)", () => {
  it("code identical to the input (modulo whitespace and comments) is dropped", async () => {
    const request = vectorRequest("01");
    const sameish = `${ORIGINAL_PY.replace("def find_duplicates", "# faster now\ndef find_duplicates")}\n\n   \n`;
    for (const code of [ORIGINAL_PY, sameish]) {
      const verdict = await judgeResponse(
        "/ai/optimize",
        request,
        200,
        optimizations(candidate(fence("python:dataproc/dedupe.py", code))),
      );
      expect(verdict.keptCandidates).toEqual([]);
      expect(verdict.droppedCandidates[0]?.reason).toMatch(/original code/);
    }
    // The path-less form still matches the only original file.
    const pathless = await judgeResponse(
      "/ai/optimize",
      request,
      200,
      optimizations(candidate(fence("python", ORIGINAL_PY))),
    );
    expect(pathless.keptCandidates).toEqual([]);
  });

  it("code identical to an earlier candidate is dropped; the first one is kept", async () => {
    const code = fence("python:dataproc/dedupe.py", FAST_PY);
    const first = candidate(code);
    const verdict = await judgeResponse(
      "/ai/optimize",
      vectorRequest("01"),
      200,
      optimizations(first, candidate(`${code}\n`)),
    );
    expect(verdict.keptCandidates.map((c) => c.optimization_id)).toEqual([first.optimization_id]);
    expect(verdict.droppedCandidates[0]?.reason).toMatch(/earlier candidate/);
  });

  it("a refinement equal to the candidate it refines is dropped", async () => {
    const request = vectorRequest("05");
    const item = (request as unknown as Record<string, unknown>[])[0]!;
    const verdict = await judgeResponse(
      "/ai/refinement",
      request,
      200,
      json({
        refinements: [candidate(item.optimized_source_code as string, { parent_id: item.optimization_id })],
      }),
    );
    expect(verdict.keptCandidates).toEqual([]);
    expect(verdict.droppedCandidates[0]?.reason).toMatch(/earlier candidate/);
  });
});

describe("ids across a run (§9.2, §9.3)", () => {
  const code = fence("python:dataproc/dedupe.py", FAST_PY);
  const code2 = fence("python:dataproc/dedupe.py", `${FAST_PY}\n\n_CACHE = {}`);

  it("a duplicate optimization_id within a response is a problem", async () => {
    const a = candidate(code);
    const b = candidate(code2, { optimization_id: a.optimization_id });
    const verdict = await judgeResponse("/ai/optimize", vectorRequest("01"), 200, optimizations(a, b));
    expect(verdict.outcome).toBe("accepted");
    expect(verdict.problems.join("\n")).toMatch(/used twice/);
  });

  it("an id reused across calls of one run, or taken from the request, is a problem", async () => {
    const run = new ClientRun();
    const a = candidate(code);
    expect((await run.judge("/ai/optimize", vectorRequest("01"), 200, optimizations(a))).problems).toEqual(
      [],
    );
    expect(run.knownIds.has(a.optimization_id as string)).toBe(true);
    const again = await run.judge(
      "/ai/optimize",
      vectorRequest("01"),
      200,
      optimizations(candidate(code2, { optimization_id: a.optimization_id })),
    );
    expect(again.problems.join("\n")).toMatch(/already known/);

    const refinement = vectorRequest("05");
    const itemId = (refinement as unknown as Record<string, unknown>[])[0]!.optimization_id;
    const reused = await judgeResponse(
      "/ai/refinement",
      refinement,
      200,
      json({ refinements: [candidate(code2, { optimization_id: itemId, parent_id: itemId })] }),
    );
    expect(reused.problems.join("\n")).toMatch(/already known/);
  });

  it("optimize candidates must have a null parent_id", async () => {
    const run = new ClientRun();
    const verdict = await run.judge(
      "/ai/optimize-line-profiler",
      vectorRequest("04"),
      200,
      optimizations(candidate(code, { parent_id: randomUUID() })),
    );
    expect(verdict.problems.join("\n")).toMatch(/should be null/);
    expect(verdict.problems.join("\n")).toMatch(/not an id the client knows/);
  });

  it("refinement: parent_id is the item's id; unknown or null parents are problems", async () => {
    const request = vectorRequest("05");
    const itemId = (request as unknown as Record<string, unknown>[])[0]!.optimization_id;
    const good = await judgeResponse(
      "/ai/refinement",
      request,
      200,
      json({ refinements: [candidate(code2, { parent_id: itemId })] }),
    );
    expect(good).toMatchObject({ outcome: "accepted", problems: [] });
    expect(good.keptCandidates[0]?.parent_id).toBe(itemId);

    const unknown = await judgeResponse(
      "/ai/refinement",
      request,
      200,
      json({ refinements: [candidate(code2, { parent_id: randomUUID() })] }),
    );
    expect(unknown.problems.join("\n")).toMatch(/not an id the client knows/);
    const orphan = await judgeResponse(
      "/ai/refinement",
      request,
      200,
      json({ refinements: [candidate(code2)] }),
    );
    expect(orphan.problems.join("\n")).toMatch(/should be/);
    // The wrong wrapper key is a missing required key.
    const wrapped = await judgeResponse(
      "/ai/refinement",
      request,
      200,
      optimizations(candidate(code2, { parent_id: itemId })),
    );
    expect(wrapped.outcome).toBe("run_aborted");
    // Seed alias with a single object instead of an array.
    const single = await judgeResponse(
      "/ai/refine",
      (request as unknown as unknown[])[0],
      200,
      json({ refinements: [candidate(code2, { parent_id: itemId })] }),
    );
    expect(single.problems).toEqual([]);
  });

  it("code_repair answers one bare candidate whose parent is the failing candidate", async () => {
    const request = vectorRequest("06");
    const repaired = fence(
      "python:scoring/normalize.py",
      "def normalize_scores(scores):\n    total = sum(scores)\n    return [round(s / total, 4) for s in scores]",
    );
    const good = await judgeResponse(
      "/ai/code_repair",
      request,
      200,
      json(candidate(repaired, { parent_id: request.optimization_id })),
    );
    expect(good).toMatchObject({ outcome: "accepted", problems: [] });
    expect(good.keptCandidates).toHaveLength(1);
    const wrongParent = await judgeResponse("/ai/repair", request, 200, json(candidate(repaired)));
    expect(wrongParent.problems.join("\n")).toMatch(/should be/);
    const wrapped = await judgeResponse("/ai/code_repair", request, 200, optimizations(candidate(repaired)));
    expect(wrapped.outcome).toBe("run_aborted");
    // Returning the failing candidate unchanged gives the client nothing new.
    const same = await judgeResponse(
      "/ai/code_repair",
      request,
      200,
      json(candidate(request.modified_source_code as string, { parent_id: request.optimization_id })),
    );
    expect(same.keptCandidates).toEqual([]);
  });

  it("adaptive_optimize: parent_id is the chain's last id", async () => {
    const request = vectorRequest("07");
    const chain = request.candidates as { optimization_id: string }[];
    const good = await judgeResponse(
      "/ai/adaptive_optimize",
      request,
      200,
      json(candidate(code2, { parent_id: chain[1]!.optimization_id })),
    );
    expect(good).toMatchObject({ outcome: "accepted", problems: [] });
    const root = await judgeResponse(
      "/ai/adaptive_optimize",
      request,
      200,
      json(candidate(code2, { parent_id: chain[0]!.optimization_id })),
    );
    expect(root.problems).toHaveLength(1);
    expect(root.problems[0]).toMatch(/should be/);
  });

  it("ids accepted earlier in the run are known parents later", async () => {
    const run = new ClientRun();
    const first = candidate(code);
    await run.judge("/ai/optimize", vectorRequest("01"), 200, optimizations(first));
    const refineRequest = [
      {
        ...(vectorRequest("05") as unknown as Record<string, unknown>[])[0],
        optimization_id: first.optimization_id,
        optimized_source_code: code,
      },
    ];
    const verdict = await run.judge(
      "/ai/refinement",
      refineRequest,
      200,
      json({ refinements: [candidate(code2, { parent_id: first.optimization_id })] }),
    );
    expect(verdict).toMatchObject({ outcome: "accepted", problems: [] });
  });

  it("legacy rewrite_jit is judged like optimize", async () => {
    const verdict = await judgeResponse(
      "/ai/rewrite_jit",
      vectorRequest("01"),
      200,
      optimizations(candidate(code)),
    );
    expect(verdict).toMatchObject({ outcome: "accepted", problems: [] });
    expect(verdict.keptCandidates).toHaveLength(1);
  });
});

describe("testgen and testgen_repair (§3.6, §3.8)", () => {
  const python = vectorRequest("08");
  const instrumented = [
    "import os",
    "import sqlite3",
    "from dataproc.dedupe import find_duplicates",
    "",
    `DB = '${TMP_DIR_PLACEHOLDER}/test_return_values_' + os.environ.get('CODEFLASH_TEST_ITERATION', '0') + '.sqlite'`,
    "",
    "def test_dupes():",
    "    find_duplicates(['a', 'A'])",
  ].join("\n");
  const perf = "from dataproc.dedupe import find_duplicates\n\ndef test_dupes():\n    find_duplicates(['a'])";
  const body = (overrides: Record<string, unknown> = {}) =>
    json({
      generated_tests: perf,
      instrumented_behavior_tests: instrumented,
      instrumented_perf_tests: perf,
      ...overrides,
    });

  it("accepts Python tests whose instrumented files compile and use the temp-dir placeholder", async () => {
    expect(await judgeResponse("/ai/testgen", python, 200, body())).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
    expect(
      await judgeResponse("/ai/testgen_repair", python, 200, body({ raw_generated_tests: null })),
    ).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
  });

  it("a missing or non-string key aborts the run", async () => {
    const { instrumented_perf_tests: _, ...missing } = JSON.parse(body()) as Record<string, unknown>;
    expect((await judgeResponse("/ai/testgen", python, 200, json(missing))).outcome).toBe("run_aborted");
    expect((await judgeResponse("/ai/testgen", python, 200, body({ generated_tests: null }))).outcome).toBe(
      "run_aborted",
    );
    expect((await judgeResponse("/ai/testgen_repair", python, 200, json({ tests: perf }))).outcome).toBe(
      "run_aborted",
    );
  });

  it("Python: no placeholder in the behavior file, or instrumented code that does not compile, is a problem", async () => {
    const noPlaceholder = await judgeResponse(
      "/ai/testgen",
      python,
      200,
      body({ instrumented_behavior_tests: perf }),
    );
    expect(noPlaceholder.problems.join("\n")).toMatch(/lacks \{codeflash_run_tmp_dir_client_side\}/);
    const broken = await judgeResponse(
      "/ai/testgen",
      python,
      200,
      body({ instrumented_perf_tests: "def test_x(:\n  pass" }),
    );
    expect(broken.problems.join("\n")).toMatch(/instrumented_perf_tests does not compile/);
  });

  it("TypeScript: the instrumented strings only need to be strings", async () => {
    const ts = vectorRequest("09");
    const tests =
      "import { topKFrequent } from '../src/utils/topk.js';\ntest('x', () => { topKFrequent(['a'], 1); });";
    const verdict = await judgeResponse(
      "/ai/testgen",
      ts,
      200,
      json({ generated_tests: tests, instrumented_behavior_tests: tests, instrumented_perf_tests: tests }),
    );
    expect(verdict).toMatchObject({ outcome: "accepted", problems: [] });
  });
});

describe("testgen_review (§3.7)", () => {
  const request = vectorRequest("13");
  it("accepts reviews indexing the request's tests, an empty list, or no key", async () => {
    const good = json({
      reviews: [{ test_index: 1, functions: [{ function_name: "test_unhashable", reason: "weak" }] }],
    });
    expect(await judgeResponse("/ai/testgen_review", request, 200, good)).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
    expect((await judgeResponse("/ai/testgen_review", request, 200, json({ reviews: [] }))).problems).toEqual(
      [],
    );
    expect((await judgeResponse("/ai/testgen_review", request, 200, json({}))).problems).toEqual([]);
  });

  it("an out-of-range or non-int test_index, or a function without a name, aborts", async () => {
    for (const review of [
      { test_index: 2, functions: [] },
      { test_index: "0", functions: [] },
      { functions: [] },
      { test_index: 0, functions: [{ reason: "no name" }] },
    ])
      expect(
        (await judgeResponse("/ai/testgen_review", request, 200, json({ reviews: [review] }))).outcome,
      ).toBe("run_aborted");
  });
});

describe("rank (§3.10)", () => {
  const request = vectorRequest("10");
  it("accepts in-range int indices, and an empty or null ranking (client falls back)", async () => {
    for (const ranking of [[2, 0, 1], [0], [], null])
      expect(await judgeResponse("/ai/rank", request, 200, json({ ranking }))).toMatchObject({
        outcome: "accepted",
        problems: [],
      });
  });

  it("ranking[0] out of range or not an int crashes the client; later slips are problems", async () => {
    expect((await judgeResponse("/ai/rank", request, 200, json({ ranking: [3, 0] }))).outcome).toBe(
      "run_aborted",
    );
    expect((await judgeResponse("/ai/rank", request, 200, json({ ranking: ["1"] }))).outcome).toBe(
      "run_aborted",
    );
    expect((await judgeResponse("/ai/rank", request, 200, json({ order: [0] }))).outcome).toBe("run_aborted");
    const late = await judgeResponse("/ai/rank", request, 200, json({ ranking: [0, 7] }));
    expect(late.outcome).toBe("accepted");
    expect(late.problems).toHaveLength(1);
  });
});

describe("optimization_review, explain, workflow-gen (§3.9, §3.11, §3.12)", () => {
  it("review must be high|medium|low (or empty); a missing review is caught by the caller", async () => {
    const request = vectorRequest("12");
    for (const review of ["high", "medium", "low", ""])
      expect(
        await judgeResponse(
          "/ai/optimization_review",
          request,
          200,
          json({ review, review_explanation: "ok" }),
        ),
      ).toMatchObject({ outcome: "accepted", problems: [] });
    expect(
      (await judgeResponse("/ai/optimization_review", request, 200, json({ review: "High" }))).problems,
    ).toHaveLength(1);
    const missing = await judgeResponse("/ai/optimization_review", request, 200, json({ rating: "high" }));
    expect(missing.outcome).toBe("failed_call");
    expect(missing.problems).toHaveLength(1);
  });

  it("explain needs an explanation string", async () => {
    const request = vectorRequest("11");
    expect(await judgeResponse("/ai/explain", request, 200, json({ explanation: "" }))).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
    expect((await judgeResponse("/ai/explain", request, 200, json({ text: "x" }))).outcome).toBe(
      "run_aborted",
    );
    expect(
      (await judgeResponse("/ai/explain", request, 200, json({ explanation: 3 }))).problems,
    ).toHaveLength(1);
  });

  it("workflow-gen reads workflow_steps with .get and falls back silently on failure", async () => {
    expect(
      await judgeResponse("/ai/workflow-gen", {}, 200, json({ workflow_steps: "- run: x" })),
    ).toMatchObject({
      outcome: "accepted",
      problems: [],
    });
    expect((await judgeResponse("/ai/workflow-gen", {}, 200, json({}))).problems).toEqual([]);
    expect((await judgeResponse("/ai/workflow-gen", {}, 200, "not json")).outcome).toBe("failed_call");
    expect(
      (await judgeResponse("/ai/workflow_gen", {}, 200, json({ workflow_steps: 1 }))).problems,
    ).toHaveLength(1);
  });
});
