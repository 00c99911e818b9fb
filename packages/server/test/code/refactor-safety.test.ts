import { afterAll, describe, expect, it } from "vitest";
import { closePythonWorker, refactorSafetyChecks, type SafetyCheck } from "../../src/code/index.js";

afterAll(async () => {
  await closePythonWorker();
});

function byName(checks: SafetyCheck[]): Record<string, boolean> {
  return Object.fromEntries(checks.map((check) => [check.name, check.passed]));
}

const ORIGINAL_PY = [
  "def total(prices, tax):",
  "    subtotal = sum(prices)",
  "    return subtotal * (1 + tax)",
  "",
  "def report(prices):",
  "    # the subtotal before tax",
  '    print("subtotal", total(prices, 0.2))',
  "",
].join("\n");

describe("refactorSafetyChecks: rename", () => {
  const rename = { from: "subtotal", to: "net" };

  it("passes a correct rename, leaving strings and comments alone", async () => {
    const refactored = ORIGINAL_PY.replace(/subtotal = /, "net = ").replace("return subtotal", "return net");
    const result = await refactorSafetyChecks({
      original: ORIGINAL_PY,
      refactored,
      language: "python",
      operation: "rename",
      rename,
    });
    expect(byName(result.checks)).toEqual({
      parses: true,
      public_signatures_unchanged: true,
      rename_target_unused: true,
      rename_complete: true,
      rename_only: true,
    });
    expect(result.score).toBe(1);
  });

  it("fails a rename that missed an occurrence", async () => {
    const refactored = ORIGINAL_PY.replace(/subtotal = /, "net = ");
    const result = await refactorSafetyChecks({
      original: ORIGINAL_PY,
      refactored,
      language: "python",
      operation: "rename",
      rename,
    });
    expect(byName(result.checks)).toMatchObject({ rename_complete: false, rename_only: true });
    expect(result.checks.find((check) => check.name === "rename_complete")?.detail).toContain("line(s) 3");
    expect(result.score).toBe(4 / 5);
  });

  it("fails a rename that changed something else too", async () => {
    const refactored = ORIGINAL_PY.replace(/subtotal/g, "net").replace("(1 + tax)", "(1 + tax + 0)");
    const result = await refactorSafetyChecks({
      original: ORIGINAL_PY,
      refactored,
      language: "python",
      operation: "rename",
      rename,
    });
    const checks = byName(result.checks);
    expect(checks).toMatchObject({ rename_complete: true, rename_only: false });
    expect(result.checks.find((check) => check.name === "rename_only")?.detail).toMatch(/^line 3: expected/);
  });

  it("fails a rename to a name already in use", async () => {
    const original = "function f(a, b) {\n  const sum = a + b;\n  return sum * b;\n}\n";
    const result = await refactorSafetyChecks({
      original,
      refactored: original.replace(/sum/g, "b"),
      language: "javascript",
      operation: "rename",
      rename: { from: "sum", to: "b" },
    });
    expect(byName(result.checks)).toMatchObject({ rename_target_unused: false, rename_complete: true });
  });

  it("expects a renamed function's signature under its new name", async () => {
    const original =
      "export function oldName(x: number): number {\n  return x;\n}\nexport const y = oldName(1);\n";
    const refactored = original.replace(/oldName/g, "newName");
    const result = await refactorSafetyChecks({
      original,
      refactored,
      language: "typescript",
      operation: "rename",
      rename: { from: "oldName", to: "newName" },
    });
    expect(result.score).toBe(1);
  });
});

describe("refactorSafetyChecks: signatures and parsing", () => {
  it("passes an extract_method that keeps public signatures and adds a helper", async () => {
    const refactored = [
      "def _subtotal(prices):",
      "    return sum(prices)",
      "",
      "def total(prices, tax):",
      "    return _subtotal(prices) * (1 + tax)",
      "",
      "def report(prices):",
      '    print("subtotal", total(prices, 0.2))',
    ].join("\n");
    const result = await refactorSafetyChecks({
      original: ORIGINAL_PY,
      refactored,
      language: "python",
      operation: "extract_method",
      selection: { start: 2, end: 2, unit: "line" },
    });
    expect(result.checks).toEqual([
      { name: "parses", passed: true, detail: expect.stringMatching(/^parsed by cpython/) },
      {
        name: "public_signatures_unchanged",
        passed: true,
        detail: "2 public signature(s) outside the selection unchanged",
      },
    ]);
    expect(result.score).toBe(1);
  });

  it("fails a refactoring that changes a public signature outside the selection", async () => {
    const refactored = ORIGINAL_PY.replace("def report(prices):", "def report(prices, out):");
    const result = await refactorSafetyChecks({
      original: ORIGINAL_PY,
      refactored,
      language: "python",
      operation: "extract_variable",
      selection: { start: 2, end: 3, unit: "line" },
    });
    expect(byName(result.checks)).toEqual({ parses: true, public_signatures_unchanged: false });
    expect(result.checks[1]?.detail).toBe("report(prices) became report(prices, out)");
    expect(result.score).toBe(0.5);
  });

  it("ignores signatures whose header lies in the selection", async () => {
    const original = "pub fn a(x: i32) -> i32 { x }\npub fn b(y: i32) -> i32 { y }\n";
    const refactored = "pub fn a(x: i64) -> i64 { x }\npub fn b(y: i32) -> i32 { y }\n";
    const selected = await refactorSafetyChecks({
      original,
      refactored,
      language: "rust",
      operation: "optimize_performance",
      selection: { start: 0, end: 10 },
    });
    expect(selected.score).toBe(1);
    const unselected = await refactorSafetyChecks({
      original,
      refactored,
      language: "rust",
      operation: "optimize_performance",
      selection: { start: 2, end: 2, unit: "line" },
    });
    expect(byName(unselected.checks)).toMatchObject({ public_signatures_unchanged: false });
  });

  it("treats a removed export as a changed public signature", async () => {
    const original = "export function f(a) { return a; }\nfunction g() {}\n";
    const result = await refactorSafetyChecks({
      original,
      refactored: "function f(a) { return a; }\nexport function g() {}\n",
      language: "javascript",
      operation: "optimize_performance",
    });
    expect(result.checks[1]).toMatchObject({ passed: false, detail: "f(a) is no longer public" });
  });

  it("fails a result that does not parse and lists where", async () => {
    const result = await refactorSafetyChecks({
      original: "package main\n\nfunc F(a int) int { return a }\n",
      refactored: "package main\n\nfunc F(a int) int { return a \n",
      language: "go",
      operation: "optimize_performance",
    });
    expect(result.checks[0]).toMatchObject({ name: "parses", passed: false });
    expect(result.checks[0]?.detail).toMatch(/^tree-sitter-go: \d+:\d+ /);
  });

  it("fails a rename request without names", async () => {
    const result = await refactorSafetyChecks({
      original: "class A {}",
      refactored: "class A {}",
      language: "java",
      operation: "rename",
    });
    expect(byName(result.checks)).toEqual({
      parses: true,
      public_signatures_unchanged: true,
      rename_complete: false,
    });
  });
});
