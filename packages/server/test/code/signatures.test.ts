import { describe, expect, it } from "vitest";
import {
  findFunction,
  type FunctionSignature,
  functionSignatures,
  identifierOccurrences,
  type Language,
} from "../../src/code/index.js";

function outline(signatures: FunctionSignature[]): string[] {
  return signatures.map(
    (s) =>
      `${s.kind} ${s.qualifiedName}(${s.parameters.join(", ")})${s.exported ? " public" : ""} ${s.startLine}-${s.endLine}`,
  );
}

const CASES: [Language, string, string[]][] = [
  [
    "python",
    [
      "import os",
      "",
      "def find_duplicates(items, key=None, *args, limit: int = 10, **kw):",
      "    def inner(): pass",
      "    return items",
      "",
      "@dataclass",
      "class Stack(Base):",
      "    def __init__(self, size):",
      "        self.size = size",
      "",
      "    @staticmethod",
      "    def _helper(x, /, y, *, z): pass",
      "",
      "async def _fetch(url): pass",
    ].join("\n"),
    [
      "function find_duplicates(items, key = None, * args, limit : int = 10, ** kw) public 3-5",
      "class Stack() public 7-13",
      "method Stack.__init__(self, size) public 9-10",
      "method Stack._helper(x, /, y, *, z) 12-13",
      "function _fetch(url) 15-15",
    ],
  ],
  [
    "javascript",
    [
      "export function topK(words, k = 10) { return words; }",
      "const helper = (a, ...rest) => a;",
      "class Counter {",
      "  #count = 0;",
      "  add(n) { this.#count += n; }",
      "  #reset() {}",
      "  static of(xs) { return new Counter(); }",
      "}",
      "exports.run = function (argv) {};",
      "module.exports = { Counter };",
    ].join("\n"),
    [
      "function topK(words, k = 10) public 1-1",
      "function helper(a, ... rest) 2-2",
      "class Counter() public 3-8",
      "method Counter.add(n) public 5-5",
      "method Counter.#reset() 6-6",
      "method Counter.of(xs) public 7-7",
      "function run(argv) public 9-9",
    ],
  ],
  [
    "typescript",
    [
      "export function parse(input: string, strict?: boolean): Node[] {",
      "  return [];",
      "}",
      "export abstract class Store<T> {",
      "  constructor(private readonly db: Db) {}",
      "  public get(id: string): T | undefined { return undefined; }",
      "  protected abstract load(id: string): Promise<T>;",
      "  private cache = new Map<string, T>();",
      "}",
      "const toKey = (a: number, b: number): string => `${a}:${b}`;",
      "export { toKey };",
    ].join("\n"),
    [
      "function parse(input : string, strict ? : boolean) public 1-3",
      "class Store() public 4-9",
      "method Store.constructor(private readonly db : Db) public 5-5",
      "method Store.get(id : string) public 6-6",
      "method Store.load(id : string) 7-7",
      "function toKey(a : number, b : number) public 10-10",
    ],
  ],
  [
    "tsx",
    "export const App = ({ items }: Props) => <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul>;\n",
    ["function App({ items } : Props) public 1-1"],
  ],
  [
    "rust",
    [
      "pub struct Stack<T> { items: Vec<T> }",
      "impl<T: Clone> Stack<T> {",
      "    pub fn push(&mut self, item: T) { self.items.push(item); }",
      "    fn grow(&mut self) {}",
      "}",
      "impl Display for Stack<u8> {",
      "    fn fmt(&self, f: &mut Formatter) -> fmt::Result { Ok(()) }",
      "}",
      "pub fn add(a: i32, b: i32) -> i32 { a + b }",
      "fn private_helper() {}",
    ].join("\n"),
    [
      "class Stack() public 1-1",
      "method Stack.push(& mut self, item : T) public 3-3",
      "method Stack.grow(& mut self) 4-4",
      "method Stack.fmt(& self, f : & mut Formatter) public 7-7",
      "function add(a : i32, b : i32) public 9-9",
      "function private_helper() 10-10",
    ],
  ],
  [
    "go",
    [
      "package stack",
      "",
      "type Stack struct {",
      "\titems []int",
      "}",
      "",
      "func (s *Stack) Push(v int) {",
      "\ts.items = append(s.items, v)",
      "}",
      "",
      "func (s Stack) size() int { return len(s.items) }",
      "",
      "func Sum(a, b int, rest ...int) int { return a + b }",
    ].join("\n"),
    [
      "class Stack() public 3-5",
      "method Stack.Push(v int) public 7-9",
      "method Stack.size() 11-11",
      "function Sum(a int, b int, rest ... int) public 13-13",
    ],
  ],
  [
    "java",
    [
      "package util;",
      "",
      "public class Stack<T> {",
      "    private final List<T> items = new ArrayList<>();",
      "    public Stack(int capacity) {}",
      "    public void push(T item) { items.add(item); }",
      "    private void grow() {}",
      "    public static <T> Stack<T> of(T... xs) { return null; }",
      "}",
      "interface Visitor { void visit(Node node); }",
    ].join("\n"),
    [
      "class Stack() public 3-9",
      "method Stack.Stack(int capacity) public 5-5",
      "method Stack.push(T item) public 6-6",
      "method Stack.grow() 7-7",
      "method Stack.of(T ... xs) public 8-8",
      "class Visitor() 10-10",
      "method Visitor.visit(Node node) 10-10",
    ],
  ],
];

describe("functionSignatures", () => {
  it.each(CASES)("outlines %s", async (language, code, expected) => {
    expect(outline(await functionSignatures(code, language))).toEqual(expected);
  });

  it("compares parameters regardless of formatting", async () => {
    const tight = await functionSignatures("def f(a,b:int=1):\n  pass\n", "python");
    const loose = await functionSignatures("def f(a, b: int = 1):\n    pass\n", "python");
    expect(tight[0]?.parameters).toEqual(loose[0]?.parameters);
  });
});

describe("findFunction", () => {
  const code = [
    "class Stack:",
    "    def push(self, x):",
    "        self.items.append(x)",
    "",
    "def push(items, x):",
    "    items.append(x)",
    "",
  ].join("\n");

  it("finds a top-level function by name and a method by qualified name", async () => {
    const top = await findFunction(code, "python", "push");
    expect(top).toMatchObject({ qualifiedName: "push", startLine: 5, endLine: 6 });
    expect(top?.code).toBe("def push(items, x):\n    items.append(x)");
    const method = await findFunction(code, "python", "Stack.push");
    expect(method).toMatchObject({ kind: "method", parameters: ["self", "x"], startLine: 2 });
  });

  it("falls back to a method by its bare name, and returns undefined when absent", async () => {
    const ts = "export class A {\n  run(n: number) { return n; }\n}\n";
    expect((await findFunction(ts, "typescript", "run"))?.qualifiedName).toBe("A.run");
    expect(await findFunction(ts, "typescript", "missing")).toBeUndefined();
  });

  it("includes decorators and export in the definition's code", async () => {
    const py = await findFunction("@cache\ndef f(x):\n    return x\n", "python", "f");
    expect(py?.code).toBe("@cache\ndef f(x):\n    return x");
    const ts = await findFunction("export function g(): void {}\n", "typescript", "g");
    expect(ts?.code).toBe("export function g(): void {}");
  });
});

describe("identifierOccurrences", () => {
  it("finds identifiers, but not in strings or comments", async () => {
    const code = 'total = 0  # total so far\nprint("total", total)\nf"{total}"\n';
    const found = await identifierOccurrences(code, "python", "total");
    expect(found.map((o) => [o.line, o.column])).toEqual([
      [1, 1],
      [2, 16],
      [3, 4],
    ]);
    expect(code.slice(found[1]?.startIndex, found[1]?.endIndex)).toBe("total");
  });

  it("counts property names and template substitutions in JavaScript", async () => {
    const code = "const count = 1; // count\nobj.count = `${count} count`;\n";
    const found = await identifierOccurrences(code, "javascript", "count");
    expect(found.map((o) => o.line)).toEqual([1, 2, 2]);
  });

  it("works for Rust, Go and Java", async () => {
    expect(await identifierOccurrences('fn f(n: i32) { println!("n {}", n); }', "rust", "n")).toHaveLength(2);
    expect(
      await identifierOccurrences('package m\nfunc f(n int) int { return n } // n\nvar s = "n"', "go", "n"),
    ).toHaveLength(2);
    expect(
      await identifierOccurrences(
        'class A { int n; int g() { return n; /* n */ } String s = "n"; }',
        "java",
        "n",
      ),
    ).toHaveLength(2);
  });
});
