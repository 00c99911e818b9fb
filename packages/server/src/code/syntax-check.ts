/**
 * Does this code parse? The strictest parser available decides: the TypeScript compiler for the
 * JS/TS dialects, CPython's `compile()` for Python (tree-sitter when no python3 is available),
 * and tree-sitter for Rust, Go and Java, where any ERROR or MISSING node is a failure.
 */
import { isJavaScriptFamily, type Language } from "./languages.js";
import { PythonCompileWorker } from "./python-worker.js";
import type { SyntaxCheck, SyntaxDiagnostic } from "./syntax-result.js";
import { childrenOf, grammarName, type SyntaxNode, withTree } from "./tree-sitter.js";

export interface SyntaxCheckOptions {
  /** The Python worker to use; default one shared worker, closed by `closePythonWorker()`. */
  pythonWorker?: PythonCompileWorker;
  /** Reported by Python in its errors; default `<snippet>`. */
  filename?: string;
}

const MAX_ERRORS = 20;
let sharedWorker: PythonCompileWorker | undefined;

function defaultPythonWorker(): PythonCompileWorker {
  sharedWorker ??= new PythonCompileWorker();
  return sharedWorker;
}

/** Stops the shared Python worker (at shutdown); a later check starts a new one. */
export async function closePythonWorker(): Promise<void> {
  await sharedWorker?.close();
}

export async function checkSyntax(
  code: string,
  language: Language,
  options: SyntaxCheckOptions = {},
): Promise<SyntaxCheck> {
  if (isJavaScriptFamily(language)) {
    // The compiler takes ~0.6 s to load: only pay for it when JS/TS code is checked.
    const { isScriptLanguage, TYPESCRIPT_PARSER, typescriptSyntaxErrors } =
      await import("./typescript-syntax.js");
    if (isScriptLanguage(language)) {
      const errors = typescriptSyntaxErrors(code, language);
      return { ok: errors.length === 0, errors: errors.slice(0, MAX_ERRORS), parser: TYPESCRIPT_PARSER };
    }
  }
  if (language === "python") return checkPython(code, options);
  return treeSitterCheck(code, language);
}

async function checkPython(code: string, options: SyntaxCheckOptions): Promise<SyntaxCheck> {
  const worker = options.pythonWorker ?? defaultPythonWorker();
  try {
    const result = await worker.compile(code, options.filename);
    return { ...result, parser: `cpython ${worker.version ?? ""} compile()`.replace("  ", " ") };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return treeSitterCheck(code, "python", `python3 compile() unavailable: ${reason}`);
  }
}

async function treeSitterCheck(
  code: string,
  language: Language,
  fallbackReason?: string,
): Promise<SyntaxCheck> {
  const errors = await withTree(code, language, (tree) => treeErrors(tree.rootNode));
  const parser = grammarName(language);
  return {
    ok: errors.length === 0,
    errors,
    parser: fallbackReason === undefined ? parser : `${parser} (fallback: ${fallbackReason})`,
  };
}

function treeErrors(root: SyntaxNode): SyntaxDiagnostic[] {
  const errors: SyntaxDiagnostic[] = [];
  const visit = (node: SyntaxNode): void => {
    if (errors.length >= MAX_ERRORS) return;
    const at = { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
    if (node.isMissing) {
      errors.push({ ...at, message: `missing ${node.type}` });
    } else if (node.isError) {
      const text = node.text.replace(/\s+/g, " ").trim();
      const snippet = text.length > 40 ? `${text.slice(0, 40)}…` : text;
      errors.push({
        ...at,
        message: snippet === "" ? "syntax error" : `unexpected ${JSON.stringify(snippet)}`,
      });
    }
    for (const child of childrenOf(node)) if (child.hasError || child.isMissing) visit(child);
  };
  if (root.hasError) visit(root);
  return errors;
}
