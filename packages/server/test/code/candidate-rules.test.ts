import { afterAll, describe, expect, it, vi } from "vitest";
import {
  cleanExplanation,
  closePythonWorker,
  type Language,
  parseClientMarkdown,
  salvageCandidate,
  signatureChange,
} from "../../src/code/index.js";

// Records whether the TypeScript compiler (~0.6 s to load) was brought in.
const loaded = vi.hoisted(() => ({ typescript: false }));
vi.mock("../../src/code/typescript-syntax.js", async (importOriginal) => {
  loaded.typescript = true;
  return importOriginal();
});

afterAll(async () => {
  await closePythonWorker();
});

describe("signatureChange", () => {
  const compatible: [string, Language, string[], string[]][] = [
    ["same names, new annotations (Python)", "python", ["self", "items"], ["self", "items : list"]],
    ["a trailing default (Python)", "python", ["items"], ["items", "key = None"]],
    ["a trailing keyword-only default (Python)", "python", ["items"], ["items", "*", "cache = None"]],
    ["trailing *args and **kwargs (Python)", "python", ["items"], ["items", "* args", "** kw"]],
    ["a trailing optional (TypeScript)", "typescript", ["a : number"], ["a : number", "b ? : string"]],
    ["a trailing default (JavaScript)", "javascript", ["a"], ["a", "b = 1"]],
    ["a rest parameter (JavaScript)", "javascript", ["a"], ["a", "... rest"]],
    ["a changed TypeScript type", "typescript", ["a : string [ ]"], ["a : readonly string [ ]"]],
    ["a parameter property kept", "typescript", ["private readonly a : number"], ["private a : number"]],
    ["Java `final` and annotations", "java", ["int [ ] a"], ["@ Nonnull final int [ ] a"]],
    ["Go grouped names spelled out", "go", ["a int", "b int"], ["a int", "b int"]],
  ];
  it.each(compatible)("accepts %s", (_, language, before, after) => {
    expect(signatureChange(before, after, language)).toBeUndefined();
  });

  const broken: [string, Language, string[], string[], string][] = [
    ["a renamed parameter", "python", ["items"], ["values"], "parameter 1 is values, was items"],
    ["swapped parameters", "javascript", ["a", "b"], ["b", "a"], "parameter 1 is b, was a"],
    [
      "a removed parameter",
      "typescript",
      ["a : number", "b : number"],
      ["a : number"],
      "parameter b removed",
    ],
    ["a required parameter added", "python", ["items"], ["items", "key"], "required parameter key added"],
    ["a default taken away", "javascript", ["a = 1"], ["a"], "parameter a lost its default"],
    [
      "a changed Java type",
      "java",
      ["int [ ] a"],
      ["long [ ] a"],
      "parameter a has type long [ ], was int [ ]",
    ],
    [
      "a changed Go type",
      "go",
      ["xs [ ] int"],
      ["xs [ ] int64"],
      "parameter xs has type [ ] int64, was [ ] int",
    ],
    ["an added Java parameter", "java", ["int a"], ["int a", "int b"], "required parameter b added"],
    ["a positional-only marker added", "python", ["a"], ["a", "/"], "required parameter / added"],
  ];
  it.each(broken)("rejects %s", (_, language, before, after, message) => {
    expect(signatureChange(before, after, language)).toBe(message);
  });
});

describe("cleanExplanation", () => {
  it("drops lead-ins, headings, wrapper tags and stray fences, and unwraps `Explanation:`", () => {
    const prose = [
      "Certainly! Here is the optimized code:",
      "## Optimized Code",
      "<explanation>",
      "**Explanation:** one pass with a set.",
      "</explanation>",
      "```",
      "The rest is unchanged.",
    ].join("\n");
    expect(cleanExplanation(prose)).toBe("one pass with a set.\n\nThe rest is unchanged.");
  });

  it("keeps informative sentences that start like a lead-in", () => {
    expect(cleanExplanation("Here is why it is faster: the slice copied the list each time.")).toBe(
      "Here is why it is faster: the slice copied the list each time.",
    );
  });

  it("caps a long explanation near 2000 characters at a word boundary", () => {
    const long = "word ".repeat(1000).trim();
    const capped = cleanExplanation(long);
    expect(capped.length).toBeLessThanOrEqual(2000);
    expect(capped.length).toBeGreaterThan(1900);
    expect(capped.endsWith("word…")).toBe(true);
  });
});

const PY =
  "```python:a.py\ndef f(items):\n    return [x for i, x in enumerate(items) if x in items[:i]]\n```";
const PY_FAST =
  "```python\ndef f(items):\n    seen = set()\n    return [x for x in items if x in seen or seen.add(x)]\n```";

describe("salvageCandidate", () => {
  it("never starts the TypeScript compiler for Python, and does for JavaScript", async () => {
    const python = await salvageCandidate(PY_FAST, { original: parseClientMarkdown(PY), tag: "python" });
    expect(python.ok).toBe(true);
    expect(loaded.typescript).toBe(false);
    const js = await salvageCandidate("```js\nfunction f(a) {\n  return a * 2;\n}\n```", {
      original: parseClientMarkdown("```javascript:f.js\nfunction f(a) {\n  return a + a;\n}\n```"),
      tag: "javascript",
    });
    expect(js.ok).toBe(true);
    expect(loaded.typescript).toBe(true);
  });

  it("always gives an explanation, naming the changed functions when the answer has no prose", async () => {
    const result = await salvageCandidate(PY_FAST, { original: parseClientMarkdown(PY), tag: "python" });
    expect(result).toMatchObject({ ok: true, explanation: "Optimized `f` for speed." });
  });

  it("drops an answer for a tag it cannot read, and an empty request", async () => {
    await expect(
      salvageCandidate(PY_FAST, { original: parseClientMarkdown(PY), tag: "cobol" }),
    ).resolves.toMatchObject({ ok: false, reason: "no_code" });
    await expect(salvageCandidate(PY_FAST, { original: [], tag: "python" })).resolves.toMatchObject({
      ok: false,
      reason: "no_code",
    });
  });

  it("reports the Python compiler's message and position for a syntax error", async () => {
    const result = await salvageCandidate("```python\ndef f(items):\n    return [x for x in items\n```", {
      original: parseClientMarkdown(PY),
      tag: "python",
    });
    expect(result).toMatchObject({ ok: false, reason: "syntax_error" });
    if (!result.ok) expect(result.detail).toMatch(/^a\.py:2:\d+: SyntaxError: .*\(cpython/);
  });

  it("checks a path-less JS/TS request file with the tag's grammar", async () => {
    const original = parseClientMarkdown(
      "```typescript\nexport function f(a: number): number {\n  return a + a;\n}\n```",
    );
    const result = await salvageCandidate(
      "```typescript\nexport function f(a: number): number {\n  return a * 2;\n}\n```",
      { original, tag: "typescript" },
    );
    expect(result).toMatchObject({
      ok: true,
      sourceCode: "```typescript\nexport function f(a: number): number {\n  return a * 2;\n}\n```",
    });
  });

  it("takes a block's own language only within the request's family: a TypeScript block for a Python request is ignored", async () => {
    const result = await salvageCandidate(
      "```ts\nexport function f(items: number[]) { return items; }\n```",
      {
        original: parseClientMarkdown(PY),
        tag: "python",
      },
    );
    expect(result).toMatchObject({ ok: false, reason: "no_code" });
  });
});
