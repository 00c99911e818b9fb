import { describe, expect, it } from "vitest";
import {
  cutAtStops,
  type DeltaFilter,
  extractInsertion,
  FenceFilter,
  StopFilter,
  trimEchoes,
} from "../../src/inference/completion/answer-cleanup.js";
import { commentLine } from "../../src/inference/completion/comment-syntax.js";

/** Feeds `text` in chunks of `size` characters and joins what comes out. */
function through(filters: DeltaFilter[], text: string, size: number): string {
  let out = "";
  for (let i = 0; i < text.length && !filters.some((f) => f.done); i += size) {
    let piece = text.slice(i, i + size);
    for (const filter of filters) piece = filter.push(piece);
    out += piece;
  }
  let rest = "";
  for (const filter of filters) rest = filter.push(rest) + filter.end();
  return out + rest;
}

describe("extractInsertion", () => {
  it.each([
    ["a fenced block", "```rust\nlet x = 1;\n```", "let x = 1;"],
    ["prose around a block", "Here is the code:\n```py\nx = 1\n```\nThis sets x.", "x = 1"],
    ["an unclosed block", "```python\nx = 1\ny = 2", "x = 1\ny = 2"],
    ["a bare answer", "x = 1", "x = 1"],
    ["a preamble without a fence", "Sure! Here it is:\nx = 1", "x = 1"],
    ["Python code ending in a colon is not prose", "if x:\n    y()", "if x:\n    y()"],
    ["code starting with a chatty word is code", "sure = check()\nokay(sure)", "sure = check()\nokay(sure)"],
  ])("%s", (_, raw, expected) => {
    expect(extractInsertion(raw)).toBe(expected);
  });
});

describe("trimEchoes", () => {
  const prefix = "fn f(n: u32) -> u32 {\n    let total = n * 2;\n    ";
  const suffix = "\n}\n\nfn main() { f(1); }\n";

  it("drops the lines before the cursor repeated at the start, with or without indentation", () => {
    expect(trimEchoes("    let total = n * 2;\n    total + 1", prefix, suffix)).toBe("total + 1");
    expect(trimEchoes("let total = n * 2;\n    total + 1", prefix, suffix)).toBe("total + 1");
  });

  it("drops the code after the cursor repeated at the end", () => {
    expect(trimEchoes("total + 1\n}\n\nfn main() { f(1); }", prefix, suffix)).toBe("total + 1");
  });

  it("keeps short overlaps that are as likely to be real code", () => {
    expect(trimEchoes("if n > 1 {\n        return 1;\n    }", prefix, "\n}\n")).toBe(
      "if n > 1 {\n        return 1;\n    }",
    );
    expect(trimEchoes("total + 1", prefix, suffix)).toBe("total + 1");
  });
});

describe("cutAtStops and StopFilter", () => {
  it("cuts at the earliest stop", () => {
    expect(cutAtStops("a\n\nb```c", ["```", "\n\n"])).toBe("a");
    expect(cutAtStops("abc", [])).toBe("abc");
  });

  it.each([1, 2, 3, 7])("streams the same text in chunks of %i, never a piece of a stop", (size) => {
    const text = "x = 1 END y = 2";
    expect(through([new StopFilter([" END y"])], text, size)).toBe("x = 1");
    expect(through([new StopFilter(["zzz"])], text, size)).toBe(text);
  });
});

describe("FenceFilter", () => {
  const answers = [
    "```python\nx = 1\ny = 2\n```\nThis sets x and y.",
    "Here is the completion:\n\n```rust\nlet a = 1;\n\nlet b = 2;\n```",
    "return fib(n - 1) + fib(n - 2)",
    "if x:\n    y()\n",
    "```ts\nconst s = `template`;\n```",
    "```\nunclosed = True",
  ];

  it.each([1, 3, 5, 64])("streams what extractInsertion keeps (chunks of %i)", (size) => {
    for (const raw of answers) {
      expect(through([new FenceFilter()], raw, size), JSON.stringify(raw)).toBe(extractInsertion(raw));
    }
  });

  it("is done at the closing fence, so generation can stop there", () => {
    const filter = new FenceFilter();
    filter.push("```py\nx = 1\n```\n");
    expect(filter.done).toBe(true);
  });
});

describe("commentLine", () => {
  it.each([
    ["rust", "// file: a\n"],
    ["python", "# file: a\n"],
    ["py", "# file: a\n"],
    ["ruby", "# file: a\n"],
    ["sql", "-- file: a\n"],
    ["html", "<!-- file: a -->\n"],
    ["css", "/* file: a */\n"],
    ["Go", "// file: a\n"],
    ["unknown-lang", "// file: a\n"],
  ])("%s", (language, expected) => {
    expect(commentLine(language, "file: a")).toBe(expected);
  });

  it("keeps the header on one line and its comment closed", () => {
    expect(commentLine("python", "deps: a\nimport os")).toBe("# deps: a import os\n");
    expect(commentLine("html", "x --> <script>")).toBe("<!-- x  <script> -->\n");
  });
});
