import { describe, expect, it } from "vitest";
import { relaxPythonJson } from "../../src/optimization/codeflash-http.js";
import { spellings } from "../../src/optimization/routes.js";

describe("relaxPythonJson", () => {
  it("reads Python's non-finite floats as null, outside strings only", () => {
    const text = '{"a": NaN, "b": [Infinity, -Infinity, 1.5], "s": "NaN and \\"Infinity\\"", "NaN": 2}';
    expect(JSON.parse(relaxPythonJson(text))).toEqual({
      a: null,
      b: [null, null, 1.5],
      s: 'NaN and "Infinity"',
      NaN: 2,
    });
  });

  it("leaves valid JSON untouched", () => {
    const text = '{"x": "a\\\\", "y": -1e-3}';
    expect(relaxPythonJson(text)).toBe(text);
  });
});

describe("spellings", () => {
  it("swaps - and _ both ways", () => {
    expect(spellings("optimize-line-profiler").sort()).toEqual([
      "optimize-line-profiler",
      "optimize_line_profiler",
    ]);
    expect(spellings("code_repair").sort()).toEqual(["code-repair", "code_repair"]);
    expect(spellings("rank")).toEqual(["rank"]);
  });
});
