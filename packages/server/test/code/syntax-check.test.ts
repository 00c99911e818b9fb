import { afterAll, describe, expect, it } from "vitest";
import { checkSyntax, closePythonWorker, type Language, PythonCompileWorker } from "../../src/code/index.js";

afterAll(async () => {
  await closePythonWorker();
});

const VALID: [Language, string][] = [
  ["python", "def f(items):\n    seen = {}\n    return [x for x in items if x not in seen]\n"],
  [
    "javascript",
    "const o = { a: 1, b: 2 };\nmodule.exports = function f(a = 1, ...b) { return a?.x ?? b; };\n",
  ],
  ["jsx", 'export const App = ({ name }) => <div className="x">{name}</div>;\n'],
  ["typescript", "export function f<T>(xs: T[], k: number): T[] {\n  return xs.slice(0, k) as T[];\n}\n"],
  [
    "tsx",
    "export function App<T,>(props: { items: T[] }): JSX.Element {\n  return <ul>{props.items.map((i) => <li>{String(i)}</li>)}</ul>;\n}\n",
  ],
  ["rust", "pub fn add(a: i32, b: i32) -> i32 {\n    let s = a + b;\n    s\n}\n"],
  ["go", "package main\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"],
  ["java", "public class A {\n  public static int add(int a, int b) { return a + b; }\n}\n"],
];

const BROKEN: [string, Language, string][] = [
  ["a Python indentation error", "python", "def f():\nreturn 1\n"],
  ["an unexpected Python indent", "python", "x = 1\n    y = 2\n"],
  ["a Python return outside a function", "python", "return 1\n"],
  ["a doubled comma in a JS object", "javascript", "const o = {a:1,,};\n"],
  ["type annotations in JavaScript", "javascript", "let x: number = 1;\n"],
  ["JSX in a .ts file", "typescript", "const a = <div>{x}</div>;\n"],
  ["an unclosed TSX element", "tsx", "const a = <div><span></div>;\n"],
  ["a missing TypeScript brace", "typescript", "function f(a: number {\n  return a;\n}\n"],
  ["unbalanced Rust braces", "rust", "fn main() {\n    let x = 1;\n"],
  ["an extra Rust brace", "rust", "fn main() {\n    let x = 1;\n}}\n"],
  ["a Go assignment without a value", "go", "package main\n\nfunc main() {\n\tx := \n}\n"],
  ["a Go function without its body brace", "go", "package main\n\nfunc main() \n\treturn\n}\n"],
  ["a Java statement without a semicolon", "java", "class A { void m() { int x = 1 } }\n"],
  ["a Java method missing its parenthesis", "java", "class A { void m( { } }\n"],
];

describe("checkSyntax", () => {
  it.each(VALID)("accepts valid %s", async (language, code) => {
    const result = await checkSyntax(code, language);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it.each(BROKEN)("rejects %s", async (_name, language, code) => {
    const result = await checkSyntax(code, language);
    expect(result.ok).toBe(false);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.line).toBeGreaterThanOrEqual(1);
      expect(error.column).toBeGreaterThanOrEqual(1);
      expect(error.message).not.toBe("");
    }
  });

  it("accepts empty code in every language", async () => {
    for (const language of ["python", "javascript", "typescript", "rust", "java"] as const) {
      expect((await checkSyntax("", language)).ok).toBe(true);
    }
  });

  it("names the parser that decided and where the error is", async () => {
    const js = await checkSyntax("const o = {a:1,,};", "javascript");
    expect(js.parser).toMatch(/^typescript@5\./);
    expect(js.errors[0]).toEqual({ line: 1, column: 16, message: "Property assignment expected." });

    const python = await checkSyntax("def f():\nreturn 1\n", "python");
    expect(python.parser).toMatch(/^cpython 3\.\d+\.\d+ compile\(\)$/);
    expect(python.errors[0]).toMatchObject({ line: 2, message: expect.stringMatching(/^IndentationError/) });

    expect((await checkSyntax("fn main() {", "rust")).parser).toBe("tree-sitter-rust");
    expect((await checkSyntax("class A {", "java")).parser).toBe("tree-sitter-java");
  });

  it("falls back to tree-sitter, and says so, when python3 is missing", async () => {
    const worker = new PythonCompileWorker({ python: "/nonexistent/python3" });
    const valid = await checkSyntax("x = 1\n", "python", { pythonWorker: worker });
    expect(valid.ok).toBe(true);
    expect(valid.parser).toMatch(/^tree-sitter-python \(fallback: python3 compile\(\) unavailable: /);
    const broken = await checkSyntax("def f(:\n", "python", { pythonWorker: worker });
    expect(broken.ok).toBe(false);
    await worker.close();
  });
});
