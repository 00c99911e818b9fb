import { describe, expect, it } from "vitest";
import { type Language, normalizeCode } from "../../src/code/index.js";

const EQUAL: [string, Language, string, string][] = [
  [
    "Python comments, blank lines and spacing",
    "python",
    "def f(a, b):\n    # add them\n    return a+b  # done\n",
    "def f(a,b):\n\n\n        return a + b\n",
  ],
  [
    "Python quote style and trailing commas in calls",
    "python",
    "x = g('a', 1,)\n",
    'x = g(\n    "a",\n    1,\n)\n',
  ],
  [
    "JavaScript semicolons, quotes and trailing commas",
    "javascript",
    "const a = { x: 'y', z: [1, 2,], };\nfunction f() { return a }\n",
    '// config\nconst a = {x: "y", z: [1, 2]}\n\nfunction f() {\n  return a;\n}',
  ],
  [
    "TypeScript block comments and line breaks",
    "typescript",
    "/** doc */\nexport function f(xs: number[]): number {\n  return xs.length /* n */;\n}\n",
    "export function f(xs: number[]): number { return xs.length; }",
  ],
  [
    "JSX text whitespace",
    "jsx",
    "const A = () => <div>\n  hello   world\n</div>;",
    "const A = () => <div>hello world</div>;",
  ],
  [
    "Rust formatting and comments",
    "rust",
    "// add\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    "fn add(a:i32,b:i32)->i32{a+b}",
  ],
  [
    "Go semicolons and layout",
    "go",
    "package main\n\nfunc f() int {\n\tx := 1\n\treturn x\n}\n",
    "package main\nfunc f() int { x := 1; return x; }",
  ],
  [
    "Java layout and comments",
    "java",
    "class A {\n  // c\n  int f(int a) {\n    return a * 2;\n  }\n}\n",
    "class A { int f(int a) { return a*2; } }",
  ],
];

const DIFFERENT: [string, Language, string, string][] = [
  [
    "Python statement moved out of a loop",
    "python",
    "for x in xs:\n    a(x)\n    b(x)\n",
    "for x in xs:\n    a(x)\nb(x)\n",
  ],
  ["Python operator change", "python", "y = a + b\n", "y = a - b\n"],
  ["Python one-element tuple versus parenthesised value", "python", "t = (1,)\n", "t = (1)\n"],
  ["Python two statements versus one expression", "python", "a\n-b\n", "a - b\n"],
  ["Python string content", "python", "s = 'a  b'\n", "s = 'a b'\n"],
  [
    "JavaScript return on its own line",
    "javascript",
    "function f() {\n  return\n  x\n}",
    "function f() {\n  return x\n}",
  ],
  ["JavaScript renamed variable", "javascript", "let a = 1;", "let b = 1;"],
  ["Rust tail expression versus statement", "rust", "fn f() -> i32 { x }", "fn f() -> i32 { x; }"],
  ["Go different constant", "go", "package m\nconst n = 1\n", "package m\nconst n = 2\n"],
  ["Java different method call", "java", "class A { void f() { g(); } }", "class A { void f() { h(); } }"],
];

describe("normalizeCode", () => {
  it.each(EQUAL)("equates code that differs only in %s", async (_name, language, a, b) => {
    expect(await normalizeCode(a, language)).toBe(await normalizeCode(b, language));
  });

  it.each(DIFFERENT)("tells apart %s", async (_name, language, a, b) => {
    expect(await normalizeCode(a, language)).not.toBe(await normalizeCode(b, language));
  });

  it("gives one statement per line and explicit Python blocks", async () => {
    expect(await normalizeCode("def f(a):\n    if a:\n        return 1\n    return 2\n", "python")).toBe(
      ["def f ( a ) : {", "if a : {", "return 1", "}", "return 2", "}"].join("\n"),
    );
  });
});
