import { describe, expect, it } from "vitest";
import { extractCodeBlocks, renderCodeBlock, renderCodeBlocks } from "../../src/code/index.js";

const FENCE = "```";

describe("extractCodeBlocks", () => {
  it("reads the client's own format with prose around it", () => {
    const text = `Here is a faster version:\n${FENCE}python:dataproc/dedupe.py\ndef f(items):\n    return items\n${FENCE}\nIt is O(n).`;
    const { blocks, prose, truncatedBlock } = extractCodeBlocks(text);
    expect(blocks).toEqual([
      {
        language: "python",
        tag: "python",
        path: "dataproc/dedupe.py",
        code: "def f(items):\n    return items",
        truncated: false,
        line: 2,
      },
    ]);
    expect(prose).toBe("Here is a faster version:\n\nIt is O(n).");
    expect(truncatedBlock).toBeUndefined();
  });

  it("reads several blocks in order, each with its own language", () => {
    const text = [
      "First the module:",
      `${FENCE}typescript:src/utils/topk.ts`,
      "export const k = 1;",
      FENCE,
      `${FENCE}typescript:src/utils/count.ts`,
      "export const c = 2;",
      FENCE,
      "Then a test:",
      `${FENCE}js`,
      "test()",
      FENCE,
    ].join("\n");
    const { blocks, prose } = extractCodeBlocks(text);
    expect(blocks.map((block) => [block.language, block.path, block.code])).toEqual([
      ["typescript", "src/utils/topk.ts", "export const k = 1;"],
      ["typescript", "src/utils/count.ts", "export const c = 2;"],
      ["javascript", undefined, "test()"],
    ]);
    expect(prose).toBe("First the module:\n\nThen a test:");
  });

  it("keeps a block without a tag, with no language unless a default is given", () => {
    const text = `${FENCE}\ndef f():\n    pass\n${FENCE}`;
    expect(extractCodeBlocks(text).blocks[0]).toEqual({
      code: "def f():\n    pass",
      truncated: false,
      line: 1,
    });
    expect(extractCodeBlocks(text, { defaultLanguage: "python" }).blocks[0]?.language).toBe("python");
  });

  it("keeps an unknown tag as written but gives it no language", () => {
    const { blocks } = extractCodeBlocks(`${FENCE}text\nhello\n${FENCE}`);
    expect(blocks[0]?.tag).toBe("text");
    expect(blocks[0]?.language).toBeUndefined();
    expect(
      extractCodeBlocks(`${FENCE}plaintext\nx = 1\n${FENCE}`, { defaultLanguage: "python" }).blocks[0]
        ?.language,
    ).toBe("python");
  });

  it("reads tags in any case and by alias", () => {
    const text = `${FENCE}Python\na = 1\n${FENCE}\n${FENCE}golang\npackage main\n${FENCE}\n${FENCE}rs\nfn main() {}\n${FENCE}`;
    expect(extractCodeBlocks(text).blocks.map((block) => block.language)).toEqual(["python", "go", "rust"]);
  });

  it("takes the language from a path given instead of a tag", () => {
    const { blocks } = extractCodeBlocks(`${FENCE}src/lib/stats.mjs\nexport const x = 1;\n${FENCE}`);
    expect(blocks[0]).toMatchObject({ language: "javascript", path: "src/lib/stats.mjs" });
    expect(blocks[0]?.tag).toBeUndefined();
  });

  it("accepts a space instead of a colon, and a title attribute", () => {
    const text = `${FENCE}python dataproc/a.py\nx = 1\n${FENCE}\n${FENCE}rust title="src/main.rs"\nfn main() {}\n${FENCE}`;
    expect(extractCodeBlocks(text).blocks.map((block) => [block.language, block.path])).toEqual([
      ["python", "dataproc/a.py"],
      ["rust", "src/main.rs"],
    ]);
  });

  it("lets the path's extension pick the dialect within JavaScript and TypeScript", () => {
    const { blocks } = extractCodeBlocks(
      `${FENCE}typescript:src/App.tsx\nexport const A = () => <div />;\n${FENCE}`,
    );
    expect(blocks[0]?.language).toBe("tsx");
  });

  it("takes a `# file:` first line as the path and drops it", () => {
    const { blocks } = extractCodeBlocks(`${FENCE}python\n# file: pkg/mod.py\nx = 1\n${FENCE}`);
    expect(blocks[0]).toMatchObject({ path: "pkg/mod.py", code: "x = 1" });
  });

  it("reads tilde fences", () => {
    const { blocks } = extractCodeBlocks(`Answer:\n~~~go\npackage main\n~~~\nDone.`);
    expect(blocks[0]).toMatchObject({ language: "go", code: "package main" });
  });

  it("reads fences indented inside a list, removing the fence's indentation", () => {
    const text = `1. Replace the loop:\n   ${FENCE}python\n   def f():\n       return 1\n   ${FENCE}\n2. Run the tests.`;
    const { blocks, prose } = extractCodeBlocks(text);
    expect(blocks[0]?.code).toBe("def f():\n    return 1");
    expect(prose).toBe("1. Replace the loop:\n\n2. Run the tests.");
  });

  it("drops a final block whose closing fence never came, and reports it", () => {
    const text = `${FENCE}python:a.py\nx = 1\n${FENCE}\nAnd the helper:\n${FENCE}python:b.py\ndef helper(:`;
    const { blocks, truncatedBlock, prose } = extractCodeBlocks(text);
    expect(blocks.map((block) => block.path)).toEqual(["a.py"]);
    expect(truncatedBlock).toMatchObject({ path: "b.py", code: "def helper(:", truncated: true, line: 5 });
    expect(prose).toBe("And the helper:");
  });

  it("keeps backticks inside code: inline, in template strings, and a nested fence with a tag", () => {
    const code = [
      "def render():",
      '    """Usage:',
      "    ```python",
      "    render()",
      "    ```",
      '    """',
      "    return `x` + '```'",
    ].join("\n");
    const text = `${FENCE}python\n${code}\n${FENCE}\nafter`;
    const { blocks, prose } = extractCodeBlocks(text);
    expect(blocks[0]?.code).toBe(code);
    expect(prose).toBe("after");
  });

  it("does not close a block on a bare fence nested deeper than the opener", () => {
    const code = 'def f():\n    """\n    ```\n    f()\n    ```\n    """';
    expect(extractCodeBlocks(`${FENCE}python\n${code}\n${FENCE}`).blocks[0]?.code).toBe(code);
  });

  it("lets a longer fence wrap a block that contains a shorter one", () => {
    const inner = `${FENCE}js\nconst x = 1;\n${FENCE}`;
    const { blocks } = extractCodeBlocks(`\`\`\`\`markdown\n${inner}\n\`\`\`\``);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.code).toBe(inner);
  });

  it("reads CRLF text and an empty block", () => {
    const { blocks } = extractCodeBlocks(
      `${FENCE}python:a.py\r\nx = 1\r\n${FENCE}\r\n${FENCE}python\r\n${FENCE}\r\n`,
    );
    expect(blocks.map((block) => block.code)).toEqual(["x = 1", ""]);
    expect(blocks[0]?.path).toBe("a.py");
  });

  it("ignores inline triple backticks in prose", () => {
    const { blocks, prose } = extractCodeBlocks("Call ```f()``` twice.");
    expect(blocks).toEqual([]);
    expect(prose).toBe("Call ```f()``` twice.");
  });

  it("returns only prose when there is no block at all", () => {
    expect(extractCodeBlocks("I cannot make this faster.")).toEqual({
      blocks: [],
      prose: "I cannot make this faster.",
    });
  });
});

describe("renderCodeBlock", () => {
  it("renders the client's exact format, code stripped, no trailing newline", () => {
    expect(renderCodeBlock("\n\ndef f():\n    pass\n\n", "python", "dataproc/dedupe.py")).toBe(
      "```python:dataproc/dedupe.py\ndef f():\n    pass\n```",
    );
    expect(renderCodeBlock("x = 1", "python")).toBe("```python\nx = 1\n```");
  });

  it("writes paths with forward slashes and refuses tags the client cannot read", () => {
    expect(renderCodeBlock("x", "java", "src\\Main.java")).toBe("```java:src/Main.java\nx\n```");
    expect(() => renderCodeBlock("x", "c++")).toThrow(RangeError);
  });

  it("joins a bundle with a single newline, and reads back what it wrote", () => {
    const bundle = renderCodeBlocks([
      { code: "export const a = 1;", language: "typescript", path: "src/a.ts" },
      { code: "export const b = 2;", language: "typescript", path: "src/b.ts" },
    ]);
    expect(bundle).toBe(
      "```typescript:src/a.ts\nexport const a = 1;\n```\n```typescript:src/b.ts\nexport const b = 2;\n```",
    );
    expect(extractCodeBlocks(bundle).blocks.map((block) => [block.path, block.code])).toEqual([
      ["src/a.ts", "export const a = 1;"],
      ["src/b.ts", "export const b = 2;"],
    ]);
  });
});

describe("extractCodeBlocks when a closing fence is missing", () => {
  it("ends a block where the next block opens", () => {
    const text = "```python:a.py\nx = 1\n```python:b.py\ny = 2\n```\nDone.";
    const { blocks, truncatedBlock, prose } = extractCodeBlocks(text);
    expect(blocks.map((block) => [block.path, block.code])).toEqual([
      ["a.py", "x = 1"],
      ["b.py", "y = 2"],
    ]);
    expect(truncatedBlock).toBeUndefined();
    expect(prose).toBe("Done.");
  });
});
