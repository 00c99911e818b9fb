/**
 * Server-side instrumentation of generated Python tests for the codeflash client (`/ai/testgen`).
 *
 * The client runs the two strings returned here as they are, after replacing the literal
 * `{codeflash_run_tmp_dir_client_side}` with its temp directory, so they must follow codeflash's own
 * scheme (`codeflash/code_utils/instrument_existing_tests.py`, `create_wrapper_function` and
 * `InjectPerfOnly`): every call of the target inside a test function goes through
 * `codeflash_wrap(callable, test_module, test_class | None, test_name, qualified_name, line_id,
 * loop_index, *args, **kwargs)`, which prints `!$######<tag>######$!` before and `!######<tag>######!`
 * after the call (the perf variant appends `:<duration_ns>` to the end tag), where `<tag>` is
 * `<module>:<Class.><test>:<function>:<loop_index>:<line_id>_<n>`; the behavior variant also stores
 * the pickled `(args, kwargs, return value or exception)` in the client's SQLite `test_results`
 * table, as `codeflash/verification/parse_test_output.py` reads it.
 *
 * Line ids follow `InjectPerfOnly` too, because the client maps them back onto the generated test to
 * annotate it (`codeflash/code_utils/edit_generated_tests.py`): `"<i>"` for a call in the i-th
 * statement of the test body, `"<i>_<j>"` for a call in the j-th statement of the body of a
 * top-level `if`/`for`/`while`/`with`.
 *
 * The rewriting is done on tree-sitter's tree, as insertions around each call, so everything else in
 * the source stays byte-identical and no Python interpreter is needed.
 */
import { namedChildrenOf, type SyntaxNode, withTree } from "./tree-sitter.js";

export interface PythonInstrumentationOptions {
  /** Dotted name of the test file, e.g. `tests.test_find_duplicates__unit_test_0`. */
  testModulePath: string;
  /** The bare target name, e.g. `find_duplicates` or `total`. */
  functionName: string;
  /** e.g. `find_duplicates` or `Cart.total`; a dotted name marks a method. */
  qualifiedName: string;
  isAsync: boolean;
}

export interface InstrumentedPythonTests {
  behavior: string;
  perf: string;
}

/** The placeholder the client replaces with its run's temp directory (POSIX form). */
export const CLIENT_TMP_DIR_PLACEHOLDER = "{codeflash_run_tmp_dir_client_side}";

/** The test source does not parse as Python; `line` and `column` are 1-based. */
export class PythonTestParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = "PythonTestParseError";
  }
}

const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]*$/u;

/**
 * Rewrites every call of the target inside test functions/methods (names starting with `test`, at
 * module level or in classes) to go through `codeflash_wrap`, and adds the imports and the wrapper
 * after any module docstring and `from __future__` imports.
 */
export async function instrumentPythonTests(
  testSource: string,
  options: PythonInstrumentationOptions,
): Promise<InstrumentedPythonTests> {
  validateOptions(options);
  const { edits, placement } = await withTree(testSource, "python", (tree) => {
    const root = tree.rootNode;
    if (root.hasError) throw parseError(root);
    return { edits: callSiteEdits(root, options), placement: headerPosition(root, testSource) };
  });
  const eol = testSource.includes("\r\n") ? "\r\n" : "\n";
  const build = (mode: "behavior" | "perf"): string => {
    let header = wrapperSource(mode, options.isAsync).replaceAll("\n", eol) + eol;
    // After a docstring or __future__ import: a blank line first (and a newline, at the end of a file).
    if (placement.anchored) header = eol + header;
    if (placement.at > 0 && !/[\r\n]$/.test(testSource.slice(0, placement.at))) header = eol + header;
    return applyEdits(testSource, [
      ...edits,
      { at: placement.at, remove: 0, text: header, rank: -Number.MAX_SAFE_INTEGER },
    ]);
  };
  return { behavior: build("behavior"), perf: build("perf") };
}

function validateOptions(options: PythonInstrumentationOptions): void {
  if (!IDENTIFIER.test(options.functionName)) {
    throw new TypeError(`functionName ${JSON.stringify(options.functionName)} is not a Python identifier`);
  }
  const parts = options.qualifiedName.split(".");
  if (!parts.every((part) => IDENTIFIER.test(part)) || parts.at(-1) !== options.functionName) {
    throw new TypeError(
      `qualifiedName ${JSON.stringify(options.qualifiedName)} must be a dotted name ending in ${options.functionName}`,
    );
  }
  if (options.testModulePath === "" || /[:\r\n]/.test(options.testModulePath)) {
    // A colon would break the `module:class:test:...` tags the client parses.
    throw new TypeError(
      `testModulePath ${JSON.stringify(options.testModulePath)} is not a dotted module name`,
    );
  }
}

function parseError(root: SyntaxNode): PythonTestParseError {
  let found: SyntaxNode | undefined;
  const visit = (node: SyntaxNode): void => {
    if (found !== undefined) return;
    if (node.isError || node.isMissing) {
      found = node;
      return;
    }
    for (const child of node.children)
      if (child !== null && (child.hasError || child.isMissing)) visit(child);
  };
  visit(root);
  const at = found ?? root;
  const line = at.startPosition.row + 1;
  const column = at.startPosition.column + 1;
  const what = at.isMissing ? `missing ${at.type}` : "syntax error";
  return new PythonTestParseError(
    `test source does not parse: ${what} at line ${line}, column ${column}`,
    line,
    column,
  );
}

// ---------------------------------------------------------------------------------------------
// Edits

interface Edit {
  /** Offset in the source (UTF-16 code units, as tree-sitter reports them here). */
  at: number;
  /** How many characters at `at` the text replaces. */
  remove: number;
  text: string;
  /** Order among edits at the same offset: lower first. */
  rank: number;
}

function applyEdits(source: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.at - b.at || a.rank - b.rank);
  let out = "";
  let cursor = 0;
  for (const edit of sorted) {
    out += source.slice(cursor, edit.at) + edit.text;
    cursor = Math.max(cursor, edit.at + edit.remove);
  }
  return out + source.slice(cursor);
}

/** Where the wrapper goes: after the docstring and `from __future__` imports, else before the code. */
function headerPosition(root: SyntaxNode, source: string): { at: number; anchored: boolean } {
  const statements = namedChildrenOf(root).filter((node) => node.type !== "comment");
  let anchor: SyntaxNode | undefined;
  const first = statements[0];
  if (first !== undefined && isDocstring(first)) anchor = first;
  for (const statement of statements) if (statement.type === "future_import_statement") anchor = statement;
  if (anchor === undefined) {
    const bom = source.startsWith("\uFEFF") ? 1 : 0;
    return { at: Math.max(first?.startIndex ?? source.length, bom), anchored: false };
  }
  const newline = source.indexOf("\n", anchor.endIndex);
  return { at: newline === -1 ? source.length : newline + 1, anchored: true };
}

function isDocstring(node: SyntaxNode): boolean {
  const children = namedChildrenOf(node);
  return node.type === "expression_statement" && children.length === 1 && children[0]?.type === "string";
}

interface TestContext {
  testName: string;
  className: string | null;
}

function callSiteEdits(root: SyntaxNode, options: PythonInstrumentationOptions): Edit[] {
  const matcher = targetMatcher(root, options);
  const edits: Edit[] = [];
  for (const { fn, className } of testFunctions(root)) {
    const body = fn.childForFieldName("body");
    const name = fn.childForFieldName("name");
    if (body === null || name === null) continue;
    const context: TestContext = { testName: name.text, className };
    statementsOf(body).forEach((statement, i) => {
      const nested = compoundBody(statement);
      const nestedStatements = nested === null ? [] : statementsOf(nested);
      for (const call of targetCalls(statement, matcher)) {
        const j = nestedStatements.findIndex((inner) => contains(inner, call));
        edits.push(...wrapCall(call, context, j === -1 ? `${i}` : `${i}_${j}`, options));
      }
    });
  }
  return edits;
}

/** Test functions at module level and in (nested) classes; `className` is the dotted class path. */
function testFunctions(root: SyntaxNode): { fn: SyntaxNode; className: string | null }[] {
  const found: { fn: SyntaxNode; className: string | null }[] = [];
  const visitBlock = (block: SyntaxNode, className: string | null): void => {
    for (let node of namedChildrenOf(block)) {
      if (node.type === "decorated_definition") node = node.childForFieldName("definition") ?? node;
      if (node.type === "function_definition") {
        if (node.childForFieldName("name")?.text.startsWith("test")) found.push({ fn: node, className });
      } else if (node.type === "class_definition") {
        const name = node.childForFieldName("name")?.text;
        const body = node.childForFieldName("body");
        if (name !== undefined && body !== null)
          visitBlock(body, className === null ? name : `${className}.${name}`);
      }
    }
  };
  visitBlock(root, null);
  return found;
}

function statementsOf(block: SyntaxNode): SyntaxNode[] {
  return namedChildrenOf(block).filter((node) => node.type !== "comment");
}

/**
 * The body whose statements get `<i>_<j>` line ids: that of a top-level `if`, `for`, `while` or
 * `with` (not their `async` forms, which Python's ast gives other classes).
 */
function compoundBody(statement: SyntaxNode): SyntaxNode | null {
  switch (statement.type) {
    case "if_statement":
      return statement.childForFieldName("consequence");
    case "while_statement":
      return statement.childForFieldName("body");
    case "for_statement":
    case "with_statement":
      return statement.child(0)?.type === "async" ? null : statement.childForFieldName("body");
    default:
      return null;
  }
}

function contains(outer: SyntaxNode, inner: SyntaxNode): boolean {
  return outer.startIndex <= inner.startIndex && inner.endIndex <= outer.endIndex;
}

type CallMatcher = (call: SyntaxNode) => boolean;

/**
 * Which calls are the target's. A method (`Cart.total`) is matched on any `<expr>.total(...)`; a
 * plain function on its name, the aliases it is imported under, and `<module>.name(...)` where the
 * left side starts with an imported name (so `some_dict.get(...)` is not taken for a target `get`).
 */
function targetMatcher(root: SyntaxNode, options: PythonInstrumentationOptions): CallMatcher {
  const isMethod = options.qualifiedName.includes(".");
  const bareNames = new Set([options.functionName]);
  const imported = new Set<string>();
  const visit = (node: SyntaxNode): void => {
    if (node.type === "import_statement" || node.type === "import_from_statement") {
      const from = node.type === "import_from_statement";
      for (const name of node.childrenForFieldName("name")) {
        if (name === null) continue;
        if (name.type === "aliased_import") {
          const alias = name.childForFieldName("alias")?.text;
          if (alias === undefined) continue;
          imported.add(alias);
          if (from && name.childForFieldName("name")?.text === options.functionName) bareNames.add(alias);
        } else {
          // `import a.b` binds `a`; `from m import a` binds `a`.
          imported.add(name.text.split(".")[0] ?? name.text);
        }
      }
      return;
    }
    for (const child of namedChildrenOf(node)) visit(child);
  };
  visit(root);
  return (call) => {
    const fn = call.childForFieldName("function");
    if (fn === null) return false;
    if (fn.type === "identifier") return !isMethod && bareNames.has(fn.text);
    if (fn.type !== "attribute" || fn.childForFieldName("attribute")?.text !== options.functionName)
      return false;
    if (isMethod) return true;
    let object = fn.childForFieldName("object");
    while (object?.type === "attribute") object = object.childForFieldName("object");
    return object?.type === "identifier" && imported.has(object.text);
  };
}

function targetCalls(statement: SyntaxNode, matches: CallMatcher): SyntaxNode[] {
  const calls: SyntaxNode[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === "call" && matches(node)) calls.push(node);
    for (const child of namedChildrenOf(node)) visit(child);
  };
  visit(statement);
  return calls;
}

/**
 * `f(a, b=1)` → `codeflash_wrap(f, "<module>", None, "<test>", "<qualified>", "<line>", <loop>, a, b=1)`,
 * done as insertions so nested target calls (`f(f(x))`, `obj.total().total()`) compose.
 */
function wrapCall(
  call: SyntaxNode,
  context: TestContext,
  lineId: string,
  options: PythonInstrumentationOptions,
): Edit[] {
  const fn = call.childForFieldName("function");
  const args = call.childForFieldName("arguments");
  if (fn === null || args === null) return [];
  const quote = quoteFor(call);
  const str = (value: string): string => pythonString(value, quote);
  const injected = [
    str(options.testModulePath),
    context.className === null ? "None" : str(context.className),
    str(context.testName),
    str(options.qualifiedName),
    str(lineId),
    `int(os.environ[${str("CODEFLASH_LOOP_INDEX")}])`,
  ].join(", ");
  // Outer calls open first where several start at one offset.
  const open: Edit = { at: call.startIndex, remove: 0, text: "codeflash_wrap(", rank: -call.endIndex };
  if (args.type === "generator_expression") {
    // `f(x for x in xs)`: the generator keeps its own parentheses.
    return [
      open,
      { at: args.startIndex, remove: 0, text: `, ${injected}, `, rank: 0 },
      { at: args.endIndex, remove: 0, text: ")", rank: 0 },
    ];
  }
  const empty = namedChildrenOf(args).every((node) => node.type === "comment");
  // The argument list's `(` becomes the separator; its `)` closes codeflash_wrap.
  return [open, { at: args.startIndex, remove: 1, text: `, ${injected}${empty ? "" : ", "}`, rank: 0 }];
}

/**
 * Inside an f-string's replacement field, before Python 3.12, a string may not reuse the f-string's
 * own quote: pick the other one there.
 */
function quoteFor(call: SyntaxNode): '"' | "'" {
  for (let node = call.parent; node !== null; node = node.parent) {
    if (node.type !== "interpolation") continue;
    const start = node.parent?.child(0);
    if (start?.type !== "string_start") return '"';
    const delimiter = start.text.replace(/^[A-Za-z]*/, "");
    return delimiter === '"' ? "'" : '"';
  }
  return '"';
}

function pythonString(value: string, quote: '"' | "'"): string {
  let out = quote;
  for (const char of value) {
    if (char === "\\" || char === quote) out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char < " ") out += `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------------
// The wrapper

/**
 * codeflash's `create_wrapper_function`, with the SQLite connection opened per call (as in its
 * async decorators) rather than passed in from the test, and gc re-enabled in a `finally`.
 */
function wrapperSource(mode: "behavior" | "perf", isAsync: boolean): string {
  const behavior = mode === "behavior";
  const imports = [
    "import gc",
    ...(isAsync ? ["import inspect"] : []),
    "import os",
    ...(behavior ? ["import sqlite3"] : []),
    "import time",
    ...(behavior ? ["", "import dill as pickle"] : []),
  ];
  const signature =
    `${isAsync ? "async " : ""}def codeflash_wrap(codeflash_wrapped, codeflash_test_module_name, ` +
    "codeflash_test_class_name, codeflash_test_name, codeflash_function_name, codeflash_line_id, " +
    "codeflash_loop_index, *args, **kwargs):";
  const clientDecorated = isAsync
    ? [
        // For async targets the client decorates the function itself (codeflash_behavior_async /
        // codeflash_performance_async), which records the call and reads the line id from the env.
        '    os.environ["CODEFLASH_CURRENT_LINE_ID"] = codeflash_line_id',
        '    codeflash_code = getattr(codeflash_wrapped, "__code__", None)',
        "    if (",
        "        codeflash_code is not None",
        '        and codeflash_code.co_name == "async_wrapper"',
        '        and hasattr(codeflash_wrapped, "__wrapped__")',
        '        and os.path.basename(codeflash_code.co_filename) in ("codeflash_async_wrapper.py", "codeflash_wrap_decorator.py")',
        "    ):",
        "        return await codeflash_wrapped(*args, **kwargs)",
      ]
    : [];
  const tag = [
    '    test_id = f"{codeflash_test_module_name}:{codeflash_test_class_name}:{codeflash_test_name}:{codeflash_line_id}:{codeflash_loop_index}"',
    '    if not hasattr(codeflash_wrap, "index"):',
    "        codeflash_wrap.index = {}",
    "    if test_id in codeflash_wrap.index:",
    "        codeflash_wrap.index[test_id] += 1",
    "    else:",
    "        codeflash_wrap.index[test_id] = 0",
    "    codeflash_test_index = codeflash_wrap.index[test_id]",
    '    invocation_id = f"{codeflash_line_id}_{codeflash_test_index}"',
    "    test_stdout_tag = f\"{codeflash_test_module_name}:{(codeflash_test_class_name + '.' if codeflash_test_class_name else '')}{codeflash_test_name}:{codeflash_function_name}:{codeflash_loop_index}:{invocation_id}\"",
    '    print(f"!$######{test_stdout_tag}######$!")',
    "    exception = None",
  ];
  const timed = isAsync
    ? [
        "    counter = time.perf_counter_ns()",
        "    gc.disable()",
        "    try:",
        "        ret = codeflash_wrapped(*args, **kwargs)",
        "        counter = time.perf_counter_ns()",
        "        return_value = (await ret) if inspect.isawaitable(ret) else ret",
        "        codeflash_duration = time.perf_counter_ns() - counter",
      ]
    : [
        "    gc.disable()",
        "    try:",
        "        counter = time.perf_counter_ns()",
        "        return_value = codeflash_wrapped(*args, **kwargs)",
        "        codeflash_duration = time.perf_counter_ns() - counter",
      ];
  const caught = [
    "    except Exception as e:",
    "        codeflash_duration = time.perf_counter_ns() - counter",
    "        exception = e",
    "    finally:",
    "        gc.enable()",
  ];
  const record = behavior
    ? [
        '    print(f"!######{test_stdout_tag}######!")',
        '    iteration = os.environ["CODEFLASH_TEST_ITERATION"]',
        "    codeflash_con = sqlite3.connect(",
        `        os.path.join("${CLIENT_TMP_DIR_PLACEHOLDER}", f"test_return_values_{iteration}.sqlite")`,
        "    )",
        "    try:",
        "        codeflash_cur = codeflash_con.cursor()",
        "        codeflash_cur.execute(",
        '            "CREATE TABLE IF NOT EXISTS test_results (test_module_path TEXT, test_class_name TEXT,"',
        '            " test_function_name TEXT, function_getting_tested TEXT, loop_index INTEGER, iteration_id TEXT,"',
        '            " runtime INTEGER, return_value BLOB, verification_type TEXT)"',
        "        )",
        "        pickled_return_value = (",
        "            pickle.dumps((args, kwargs, exception))",
        "            if exception is not None",
        "            else pickle.dumps((args, kwargs, return_value))",
        "        )",
        "        codeflash_cur.execute(",
        '            "INSERT INTO test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",',
        "            (",
        "                codeflash_test_module_name,",
        "                codeflash_test_class_name,",
        "                codeflash_test_name,",
        "                codeflash_function_name,",
        "                codeflash_loop_index,",
        "                invocation_id,",
        "                codeflash_duration,",
        "                pickled_return_value,",
        '                "function_call",',
        "            ),",
        "        )",
        "        codeflash_con.commit()",
        "    finally:",
        "        codeflash_con.close()",
      ]
    : ['    print(f"!######{test_stdout_tag}:{codeflash_duration}######!")'];
  const finish = ["    if exception is not None:", "        raise exception", "    return return_value"];
  return [
    ...imports,
    "",
    "",
    signature,
    ...clientDecorated,
    ...tag,
    ...timed,
    ...caught,
    ...record,
    ...finish,
    "",
  ].join("\n");
}
