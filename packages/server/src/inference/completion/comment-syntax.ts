import { languageOf } from "../../code/index.js";

/** How a line comment is written, as an opening and an optional closing mark. */
type CommentMarks = readonly [open: string, close?: string];

const HASH: CommentMarks = ["#"];
const DASHES: CommentMarks = ["--"];
const SEMICOLON: CommentMarks = [";"];
const PERCENT: CommentMarks = ["%"];
const SLASHES: CommentMarks = ["//"];

/** Languages whose line comment is not `//` (the C family and most others). */
const MARKS: Record<string, CommentMarks> = {
  python: HASH,
  ruby: HASH,
  shell: HASH,
  bash: HASH,
  sh: HASH,
  zsh: HASH,
  fish: HASH,
  powershell: HASH,
  perl: HASH,
  r: HASH,
  julia: HASH,
  elixir: HASH,
  nim: HASH,
  crystal: HASH,
  yaml: HASH,
  toml: HASH,
  dockerfile: HASH,
  makefile: HASH,
  cmake: HASH,
  graphql: HASH,
  sql: DASHES,
  lua: DASHES,
  haskell: DASHES,
  elm: DASHES,
  ada: DASHES,
  lisp: SEMICOLON,
  "common-lisp": SEMICOLON,
  scheme: SEMICOLON,
  clojure: SEMICOLON,
  racket: SEMICOLON,
  assembly: SEMICOLON,
  erlang: PERCENT,
  matlab: PERCENT,
  latex: PERCENT,
  tex: PERCENT,
  prolog: PERCENT,
  ocaml: ["(*", "*)"],
  fsharp: SLASHES,
  css: ["/*", "*/"],
  html: ["<!--", "-->"],
  xml: ["<!--", "-->"],
  svg: ["<!--", "-->"],
  vue: ["<!--", "-->"],
  svelte: ["<!--", "-->"],
  markdown: ["<!--", "-->"],
};

/**
 * One comment line in the language's own syntax, for the context header of a fill-in-the-middle
 * prompt: a `#` header in Python or `--` in SQL reads as code the model has seen, where `//`
 * would read as a syntax error it might imitate.
 */
export function commentLine(language: string, text: string): string {
  const name = language.trim().toLowerCase();
  const [open, close] = MARKS[languageOf(name) ?? name] ?? SLASHES;
  // A line break or a closing mark inside the text would end the comment early.
  const oneLine = text.replace(/[\r\n]+/g, " ");
  const safe = close === undefined ? oneLine : oneLine.replaceAll(close, "");
  return close === undefined ? `${open} ${safe}\n` : `${open} ${safe} ${close}\n`;
}
