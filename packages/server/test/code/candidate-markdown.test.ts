import { describe, expect, it } from "vitest";
import { clientPathKey, parseClientMarkdown, renderCodeBlocks } from "../../src/code/index.js";

const FENCE = "```";

describe("parseClientMarkdown reads exactly what the client's regex reads (§5.2)", () => {
  it("reads the client's own bundle and ignores prose around it", () => {
    const text = `Here is a faster version:\n${FENCE}python:dataproc/dedupe.py\ndef f(items):\n    return items\n${FENCE}\nIt is O(n).`;
    expect(parseClientMarkdown(text)).toEqual([
      { tag: "python", path: "dataproc/dedupe.py", code: "def f(items):\n    return items" },
    ]);
  });

  it("reads the §5.6 two-file wire example, blocks joined by one newline", () => {
    const text =
      '```typescript:src/utils/topk.ts\nimport { countBy } from "./count";\n\nexport function topKFrequent(words: string[], k: number): string[] {\n  ...\n}\n```\n```typescript:src/utils/count.ts\nexport function countBy(words: string[]): Record<string, number> {\n  ...\n}\n```';
    expect(parseClientMarkdown(text).map((block) => block.path)).toEqual([
      "src/utils/topk.ts",
      "src/utils/count.ts",
    ]);
  });

  it("reads a path-less block with no path at all", () => {
    expect(parseClientMarkdown(`${FENCE}python\ndef f():\n    pass\n${FENCE}`)).toEqual([
      { tag: "python", code: "def f():\n    pass" },
    ]);
  });

  it("finds no block in an untagged fence", () => {
    expect(parseClientMarkdown(`${FENCE}\ndef f():\n    pass\n${FENCE}`)).toEqual([]);
  });

  it("finds no block when a space separates the tag from the path", () => {
    expect(parseClientMarkdown(`${FENCE}python dataproc/dedupe.py\nx = 1\n${FENCE}`)).toEqual([]);
  });

  it("never matches tags with other characters, nor tilde fences", () => {
    expect(parseClientMarkdown(`${FENCE}c++\nint x;\n${FENCE}`)).toEqual([]);
    expect(parseClientMarkdown(`${FENCE}objective-c\nint x;\n${FENCE}`)).toEqual([]);
    expect(parseClientMarkdown("~~~python\nx = 1\n~~~")).toEqual([]);
  });

  it("trims spaces around the path, and a CRLF header's \\r, which stays in the code", () => {
    expect(parseClientMarkdown(`${FENCE}python:  a.py  \nx = 1\n${FENCE}`)).toEqual([
      { tag: "python", path: "a.py", code: "x = 1" },
    ]);
    expect(parseClientMarkdown(`${FENCE}python:a.py\r\nx = 1\r\ny = 2\r\n${FENCE}`)).toEqual([
      { tag: "python", path: "a.py", code: "x = 1\r\ny = 2\r" },
    ]);
  });

  it("does not match a path-less CRLF header: the tag must be followed by the newline", () => {
    expect(parseClientMarkdown(`${FENCE}python\r\nx = 1\r\n${FENCE}`)).toEqual([]);
  });

  it("matches an empty block written with a blank line, and not without it", () => {
    expect(parseClientMarkdown(`${FENCE}python:a.py\n${FENCE}`)).toEqual([]);
    expect(parseClientMarkdown(`${FENCE}python:a.py\n\n${FENCE}`)).toEqual([
      { tag: "python", path: "a.py", code: "" },
    ]);
  });

  it("matches four-backtick fences, skipping the extra backtick", () => {
    expect(parseClientMarkdown("````python:a.py\nx = 1\n````")).toEqual([
      { tag: "python", path: "a.py", code: "x = 1" },
    ]);
  });

  it("ends the code at the first line beginning with three backticks", () => {
    const text = `${FENCE}python:a.py\ndef f():\n    """\n${FENCE}python\nf()\n${FENCE}\n    """\n${FENCE}`;
    expect(parseClientMarkdown(text)[0]).toEqual({ tag: "python", path: "a.py", code: 'def f():\n    """' });
  });

  it("keeps an indented fence line inside the code", () => {
    const code = 'def f():\n    """\n    ```python\n    f()\n    ```\n    """';
    expect(parseClientMarkdown(`${FENCE}python:a.py\n${code}\n${FENCE}`)).toEqual([
      { tag: "python", path: "a.py", code },
    ]);
  });

  it("removes ./ from paths and reads backslashes as separators", () => {
    const text = `${FENCE}python:./dataproc/dedupe.py\nx = 1\n${FENCE}\n${FENCE}python:dataproc\\text.py\ny = 2\n${FENCE}`;
    expect(parseClientMarkdown(text).map((block) => block.path)).toEqual([
      "dataproc/dedupe.py",
      "dataproc/text.py",
    ]);
  });

  it("reports a repeated path twice, in order (the later one wins where the client maps paths)", () => {
    const text = `${FENCE}python:a.py\nx = 1\n${FENCE}\n${FENCE}python:a.py\nx = 2\n${FENCE}`;
    expect(parseClientMarkdown(text).map((block) => block.code)).toEqual(["x = 1", "x = 2"]);
  });

  it("reads back what renderCodeBlocks writes", () => {
    const blocks = [
      { tag: "typescript", path: "src/a.ts", code: "export const a = 1;" },
      { tag: "typescript", code: "export const b = 2;" },
    ];
    const rendered = renderCodeBlocks(
      blocks.map((block) => ({ code: block.code, language: block.tag, path: block.path })),
    );
    expect(parseClientMarkdown(rendered)).toEqual(blocks);
  });
});

describe("clientPathKey", () => {
  it.each([
    ["./src/a.py", "src/a.py"],
    ["src//a.py", "src/a.py"],
    ["src/./a.py", "src/a.py"],
    ["src\\pkg\\a.py", "src/pkg/a.py"],
    [" src/a.py \r", "src/a.py"],
    ["/abs/a.py", "/abs/a.py"],
  ])("%j → %j", (raw, key) => {
    expect(clientPathKey(raw)).toBe(key);
  });

  it("has no key for an empty or blank path", () => {
    expect(clientPathKey("  ")).toBeUndefined();
    expect(clientPathKey("./")).toBeUndefined();
  });
});
