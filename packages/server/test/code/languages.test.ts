import { describe, expect, it } from "vitest";
import { extensionsOf, isJavaScriptFamily, LANGUAGES, languageOf } from "../../src/code/index.js";

describe("languageOf", () => {
  it.each([
    ["python", "python"],
    ["Py", "python"],
    ["python3", "python"],
    ["js", "javascript"],
    ["node", "javascript"],
    ["ts", "typescript"],
    ["TSX", "tsx"],
    ["golang", "go"],
    ["rs", "rust"],
    ["java", "java"],
    ["mjs", "javascript"],
    [".cts", "typescript"],
  ])("reads the tag %s as %s", (tag, language) => {
    expect(languageOf(tag)).toBe(language);
  });

  it.each([
    ["src/dedupe.py", "python"],
    ["lib/stats.js", "javascript"],
    ["lib/esm.mjs", "javascript"],
    ["lib/common.cjs", "javascript"],
    ["ui/App.jsx", "jsx"],
    ["src/topk.ts", "typescript"],
    ["src/mod.mts", "typescript"],
    ["src/App.tsx", "tsx"],
    ["src/main.rs", "rust"],
    ["cmd/main.go", "go"],
    ["src/Main.java", "java"],
    ["C:\\work\\Main.JAVA", "java"],
  ])("reads the path %s as %s", (path, language) => {
    expect(languageOf(path)).toBe(language);
  });

  it("knows nothing of other tags and extensions", () => {
    expect(languageOf("text")).toBeUndefined();
    expect(languageOf("c++")).toBeUndefined();
    expect(languageOf("README.md")).toBeUndefined();
    expect(languageOf("")).toBeUndefined();
  });

  it("lists every language with its extensions", () => {
    expect(LANGUAGES).toEqual(["python", "javascript", "typescript", "jsx", "tsx", "rust", "go", "java"]);
    expect(extensionsOf("javascript")).toEqual([".js", ".mjs", ".cjs"]);
    expect(isJavaScriptFamily("tsx")).toBe(true);
    expect(isJavaScriptFamily("go")).toBe(false);
  });
});
