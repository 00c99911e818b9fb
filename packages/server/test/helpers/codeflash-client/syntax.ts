/**
 * The client's syntax checks: CPython's `compile(code, ..., "exec")` for Python (one `python3`
 * process per batch of sources), tree-sitter for JS/TS/Java/Go where any ERROR or MISSING node
 * fails the block.
 */
import { spawn } from "node:child_process";
import { childrenOf, type SyntaxNode, withTree } from "../../../src/code/tree-sitter.js";
import type { ClientGrammar } from "./markdown.js";

// Warnings (invalid escape sequences) are not errors for the client either. Any exception
// counts: SyntaxError, and ValueError for NUL bytes on older Pythons (a pydantic validator
// turns it into a ValidationError, which drops the candidate just the same).
const COMPILE_BATCH = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
results = []
for source in json.loads(sys.stdin.buffer.read().decode("utf-8")):
    try:
        compile(source, "<x>", "exec")
        results.append(None)
    except BaseException as error:
        line = getattr(error, "lineno", None)
        where = " (line %s)" % line if line else ""
        results.append(type(error).__name__ + ": " + str(getattr(error, "msg", error)) + where)
sys.stdout.write(json.dumps(results))
`;

/**
 * Compiles every source with CPython in one `python3` process; per source `null` when it
 * compiles, else the error. Rejects when python3 cannot be run.
 */
export function compilePythonBatch(sources: readonly string[]): Promise<(string | null)[]> {
  if (sources.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", COMPILE_BATCH], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => reject(new Error(`cannot run python3: ${error.message}`)));
    child.stdin.on("error", () => undefined); // a crash is reported through "close"
    child.on("close", (code) => {
      const text = Buffer.concat(stdout).toString("utf8");
      try {
        const results = JSON.parse(text) as unknown;
        if (code === 0 && Array.isArray(results) && results.length === sources.length) {
          resolve(results.map((r) => (typeof r === "string" ? r : null)));
          return;
        }
      } catch {
        // reported below
      }
      reject(
        new Error(`python3 compile batch failed (exit ${code}): ${Buffer.concat(stderr).toString("utf8")}`),
      );
    });
    child.stdin.end(JSON.stringify(sources), "utf8");
  });
}

/** Compiles one source with CPython: `null` when it compiles, else the error. */
export async function compilePython(source: string): Promise<string | null> {
  const [result] = await compilePythonBatch([source]);
  return result ?? null;
}

/** Parses with a tree-sitter grammar: `null` when the tree has no ERROR or MISSING node, else the first one. */
export function treeSitterError(code: string, grammar: ClientGrammar): Promise<string | null> {
  return withTree(code, grammar, (tree) => firstError(tree.rootNode));
}

function firstError(node: SyntaxNode): string | null {
  const at = `line ${node.startPosition.row + 1}, column ${node.startPosition.column + 1}`;
  if (node.isMissing) return `missing ${node.type} at ${at}`;
  if (node.isError) {
    const text = node.text.replace(/\s+/g, " ").trim();
    return `syntax error at ${at}: ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;
  }
  for (const child of childrenOf(node)) {
    if (!child.hasError && !child.isMissing) continue;
    const found = firstError(child);
    if (found !== null) return found;
  }
  return null;
}
