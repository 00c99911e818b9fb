import { execFile, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_TMP_DIR_PLACEHOLDER,
  instrumentPythonTests,
  type PythonInstrumentationOptions,
  PythonTestParseError,
} from "../../src/code/python-test-instrumentation.js";

const run = promisify(execFile);
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "python-test-fixtures");
const PYTHON = "python3";
const HAS_PYTHON = spawnSync(PYTHON, ["--version"]).status === 0;
const HAS_PYTEST = HAS_PYTHON && spawnSync(PYTHON, ["-c", "import pytest"]).status === 0;
const MODULE = "tests.test_targets__unit_test_0";

// The client's own parsers (codeflash/verification/parse_test_output.py: matches_re_start and
// matches_re_end); the start marker must be followed by a newline.
const START_MARKER = /!\$######(.*?):(.*?)([^.:]*?):(.*?):(.*?):(.*?)######\$!\n/g;
const END_MARKER = /!######(.*?):(.*?)([^.:]*?):(.*?):(.*?):(.*?)######!/g;

interface Marker {
  module: string;
  testClass: string | null;
  test: string;
  fn: string;
  loop: number;
  invocation: string;
  duration?: number;
}

interface Row {
  test_module_path: string;
  test_class_name: string | null;
  test_function_name: string;
  function_getting_tested: string;
  loop_index: number;
  iteration_id: string;
  runtime: number;
  return_value: unknown;
  verification_type: string;
}

interface RunResult {
  stdout: string;
  starts: Marker[];
  ends: Marker[];
  outcomes: Record<string, string>;
  rows: Row[];
}

function markers(stdout: string, pattern: RegExp): Marker[] {
  return [...stdout.matchAll(pattern)].map((match) => {
    const [, module = "", testClass = "", test = "", fn = "", loop = "", last = ""] = match;
    // As the client does: an end marker's last field may be `<invocation>:<duration>`.
    const [invocation = "", duration] = last.split(":");
    return {
      module,
      testClass: testClass === "" ? null : testClass.slice(0, -1),
      test,
      fn,
      loop: Number(loop),
      invocation,
      ...(duration === undefined ? {} : { duration: Number(duration) }),
    };
  });
}

let workDir = "";
let stubDir = "";

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "py-instrumentation-"));
  stubDir = join(workDir, "stubs");
  if (HAS_PYTHON && spawnSync(PYTHON, ["-c", "import dill"]).status !== 0) {
    // dill is not installed here: stand in with pickle, which handles everything these tests pickle.
    await mkdir(stubDir, { recursive: true });
    await writeFile(
      join(stubDir, "dill.py"),
      "from pickle import *  # noqa: F403\nfrom pickle import dumps, loads\n",
    );
  }
});

afterAll(async () => {
  if (workDir !== "") await rm(workDir, { recursive: true, force: true });
});

let runCount = 0;

/** Writes the instrumented file as the client would (placeholder replaced) and runs its tests. */
async function runInstrumented(
  instrumented: string,
  env: { loopIndex?: number; iteration?: number } = {},
): Promise<RunResult> {
  runCount += 1;
  const dir = join(workDir, `run${runCount}`);
  await mkdir(dir, { recursive: true });
  const testFile = join(dir, "test_targets__unit_test_0.py");
  await writeFile(testFile, instrumented.replaceAll(CLIENT_TMP_DIR_PLACEHOLDER, dir));
  const iteration = env.iteration ?? 0;
  const sqlite = join(dir, `test_return_values_${iteration}.sqlite`);
  const { stdout } = await run(PYTHON, [join(FIXTURES, "runner.py"), testFile, MODULE, sqlite], {
    cwd: dir,
    timeout: 20_000,
    env: {
      ...process.env,
      PYTHONPATH: [FIXTURES, stubDir].join(":"),
      PYTHONDONTWRITEBYTECODE: "1",
      CODEFLASH_LOOP_INDEX: String(env.loopIndex ?? 1),
      CODEFLASH_TEST_ITERATION: String(iteration),
    },
  });
  const at = stdout.lastIndexOf("@@RESULT@@");
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  const result = JSON.parse(stdout.slice(at + "@@RESULT@@".length)) as Pick<RunResult, "outcomes" | "rows">;
  const output = stdout.slice(0, at);
  return {
    stdout: output,
    starts: markers(output, START_MARKER),
    ends: markers(output, END_MARKER),
    ...result,
  };
}

async function compiles(code: string): Promise<void> {
  const file = join(workDir, `compile${++runCount}.py`);
  await writeFile(file, code);
  await run(PYTHON, ["-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", file]);
}

const FUNCTION_OPTIONS: PythonInstrumentationOptions = {
  testModulePath: MODULE,
  functionName: "find_duplicates",
  qualifiedName: "find_duplicates",
  isAsync: false,
};

const FUNCTION_TESTS = `"""Generated regression tests."""
from __future__ import annotations

import targets
from targets import find_duplicates


def test_single_call():
    result = find_duplicates(["a", "b", "A"])  # the target
    assert result == ["a"]


def test_nested_calls():
    for items in (["x", "X"], ["y"]):
        assert find_duplicates(items) == find_duplicates(list(items))
    sizes = [len(find_duplicates([s, s.upper()])) for s in "ab"]
    assert sizes == [1, 1]
    assert targets.find_duplicates(items=["q", "Q"]) == ["q"]
    assert f"{find_duplicates(['k', 'k'])}" == "['k']"


def helper():
    return find_duplicates(["z", "z"])


def test_helper_is_not_instrumented():
    assert helper() == ["z"]


def test_exception_is_recorded():
    try:
        find_duplicates(None)
    except TypeError:
        pass
    else:
        raise AssertionError("expected a TypeError")
`;

describe("instrumentPythonTests: rewriting", () => {
  it("wraps the calls and keeps every other line byte-identical", async () => {
    const { behavior, perf } = await instrumentPythonTests(FUNCTION_TESTS, FUNCTION_OPTIONS);
    for (const output of [behavior, perf]) {
      // Docstring and __future__ import stay first; the wrapper follows them.
      expect(
        output.startsWith('"""Generated regression tests."""\nfrom __future__ import annotations\n'),
      ).toBe(true);
      const body = output.slice(output.indexOf("\nimport targets\n") + 1).split("\n");
      const original = FUNCTION_TESTS.slice(FUNCTION_TESTS.indexOf("\nimport targets\n") + 1).split("\n");
      expect(body).toHaveLength(original.length);
      original.forEach((line, index) => {
        const isCallSite = /find_duplicates\(/.test(line) && !line.includes("return find_duplicates");
        if (!isCallSite) expect(body[index]).toBe(line);
      });
    }
    expect(behavior).toContain(
      'result = codeflash_wrap(find_duplicates, "tests.test_targets__unit_test_0", None, "test_single_call", ' +
        '"find_duplicates", "0", int(os.environ["CODEFLASH_LOOP_INDEX"]), ["a", "b", "A"])  # the target',
    );
    expect(behavior).toContain("codeflash_wrap(targets.find_duplicates, ");
    // Inside an f-string's braces the other quote is used.
    expect(behavior).toContain(
      `f"{codeflash_wrap(find_duplicates, 'tests.test_targets__unit_test_0', None, `,
    );
    expect(behavior).toContain('    return find_duplicates(["z", "z"])\n');
    expect(behavior).toContain(CLIENT_TMP_DIR_PLACEHOLDER);
    expect(behavior).toContain("import dill as pickle");
    expect(perf).not.toContain("sqlite3");
  });

  it("puts the wrapper first when there is no docstring or __future__ import", async () => {
    const source =
      "# a comment\nfrom targets import find_duplicates\n\ndef test_x(): assert find_duplicates([]) == []\n";
    const { behavior } = await instrumentPythonTests(source, FUNCTION_OPTIONS);
    expect(behavior.startsWith("# a comment\nimport gc\n")).toBe(true);
    expect(behavior).toContain(
      'def test_x(): assert codeflash_wrap(find_duplicates, "tests.test_targets__unit_test_0", None, "test_x", ' +
        '"find_duplicates", "0", int(os.environ["CODEFLASH_LOOP_INDEX"]), []) == []\n',
    );
  });

  it("follows `from module import target as alias` and skips non-module receivers", async () => {
    const source =
      "from targets import find_duplicates as fd\n\ndef test_x():\n    cache = {}\n    cache.find_duplicates(1)\n    fd([])\n";
    const { perf } = await instrumentPythonTests(source, FUNCTION_OPTIONS);
    expect(perf).toContain("    cache.find_duplicates(1)\n");
    expect(perf).toContain(
      '    codeflash_wrap(fd, "tests.test_targets__unit_test_0", None, "test_x", "find_duplicates", "2"',
    );
  });

  it("rejects source that does not parse", async () => {
    const attempt = instrumentPythonTests("def test_x(:\n    pass\n", FUNCTION_OPTIONS);
    await expect(attempt).rejects.toBeInstanceOf(PythonTestParseError);
    await expect(attempt).rejects.toMatchObject({ line: 1 });
  });

  it("rejects a function name that is not an identifier", async () => {
    await expect(
      instrumentPythonTests("x = 1\n", { ...FUNCTION_OPTIONS, functionName: "a-b", qualifiedName: "a-b" }),
    ).rejects.toBeInstanceOf(TypeError);
  });
});

describe.skipIf(!HAS_PYTHON)("instrumentPythonTests: running the output", () => {
  it("compiles both files", async () => {
    const { behavior, perf } = await instrumentPythonTests(FUNCTION_TESTS, FUNCTION_OPTIONS);
    await compiles(behavior);
    await compiles(perf);
  });

  it("behavior: prints matching markers and records (args, kwargs, return value) in SQLite", async () => {
    const { behavior } = await instrumentPythonTests(FUNCTION_TESTS, FUNCTION_OPTIONS);
    const result = await runInstrumented(behavior, { loopIndex: 1, iteration: 0 });
    expect(Object.values(result.outcomes)).toEqual(["passed", "passed", "passed", "passed"]);

    const expected = [
      ["test_single_call", "0_0"],
      ["test_nested_calls", "0_0_0"],
      ["test_nested_calls", "0_0_1"],
      ["test_nested_calls", "0_0_2"],
      ["test_nested_calls", "0_0_3"],
      ["test_nested_calls", "1_0"],
      ["test_nested_calls", "1_1"],
      ["test_nested_calls", "3_0"],
      ["test_nested_calls", "4_0"],
      ["test_exception_is_recorded", "0_0"],
    ];
    const tags = expected.map(([test, invocation]) => ({
      module: MODULE,
      testClass: null,
      test,
      fn: "find_duplicates",
      loop: 1,
      invocation,
    }));
    expect(result.starts).toEqual(tags);
    expect(result.ends).toEqual(tags);
    expect(result.stdout).toContain(
      "!$######tests.test_targets__unit_test_0:test_single_call:find_duplicates:1:0_0######$!\n",
    );

    expect(result.rows.map((row) => [row.test_function_name, row.iteration_id])).toEqual(expected);
    for (const row of result.rows) {
      expect(row).toMatchObject({
        test_module_path: MODULE,
        test_class_name: null,
        function_getting_tested: "find_duplicates",
        loop_index: 1,
        verification_type: "function_call",
      });
      expect(row.runtime).toBeGreaterThan(0);
    }
    expect(result.rows[0]?.return_value).toEqual([[["a", "b", "A"]], {}, ["a"]]);
    expect(result.rows[7]?.return_value).toEqual([[], { items: ["q", "Q"] }, ["q"]]);
    // The exception is recorded in place of the return value, and re-raised to the test.
    expect(result.rows[9]?.return_value).toEqual([
      [null],
      {},
      { exception: "TypeError", args: ["object of type 'NoneType' has no len()"] },
    ]);
  });

  it.skipIf(!HAS_PYTEST)("runs under pytest as the client runs it", async () => {
    const { behavior } = await instrumentPythonTests(FUNCTION_TESTS, FUNCTION_OPTIONS);
    const dir = join(workDir, "pytest");
    await mkdir(join(dir, "tests"), { recursive: true });
    await writeFile(join(dir, "tests", "__init__.py"), "");
    await writeFile(
      join(dir, "tests", "test_targets__unit_test_0.py"),
      behavior.replaceAll(CLIENT_TMP_DIR_PLACEHOLDER, dir),
    );
    const { stdout } = await run(
      PYTHON,
      ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_targets__unit_test_0.py"],
      {
        cwd: dir,
        timeout: 60_000,
        env: {
          ...process.env,
          PYTHONPATH: [FIXTURES, stubDir, dir].join(":"),
          PYTHONDONTWRITEBYTECODE: "1",
          CODEFLASH_LOOP_INDEX: "1",
          CODEFLASH_TEST_ITERATION: "5",
        },
      },
    );
    expect(stdout).toMatch(/4 passed/);
    expect(markers(stdout, START_MARKER)).toHaveLength(10);
    expect(markers(stdout, END_MARKER)).toEqual(markers(stdout, START_MARKER));
    expect((await readFile(join(dir, "test_return_values_5.sqlite"))).length).toBeGreaterThan(0);
  });

  it("behavior: records the arguments as they are after the call", async () => {
    const source =
      "from targets import sort_in_place\n\ndef test_sort():\n    values = [3, 1, 2]\n    assert sort_in_place(values) == 3\n";
    const { behavior } = await instrumentPythonTests(source, {
      ...FUNCTION_OPTIONS,
      functionName: "sort_in_place",
      qualifiedName: "sort_in_place",
    });
    const result = await runInstrumented(behavior, { iteration: 4 });
    expect(result.outcomes).toEqual({ test_sort: "passed" });
    expect(result.rows.map((row) => [row.iteration_id, row.return_value])).toEqual([
      ["1_0", [[[1, 2, 3]], {}, 3]],
    ]);
  });

  it("perf: end markers carry a positive duration, the loop index comes from the env, no SQLite", async () => {
    const { perf } = await instrumentPythonTests(FUNCTION_TESTS, FUNCTION_OPTIONS);
    const result = await runInstrumented(perf, { loopIndex: 3, iteration: 2 });
    expect(Object.values(result.outcomes).every((outcome) => outcome === "passed")).toBe(true);
    expect(result.starts).toHaveLength(10);
    expect(result.ends).toHaveLength(10);
    result.starts.forEach((start, index) => {
      const end = result.ends[index];
      expect(start.loop).toBe(3);
      expect(end).toMatchObject({ ...start, duration: expect.any(Number) });
      expect(end?.duration).toBeGreaterThan(0);
    });
    expect(result.stdout).toMatch(
      /!######tests\.test_targets__unit_test_0:test_single_call:find_duplicates:3:0_0:\d+######!/,
    );
    expect(result.rows).toEqual([]);
    await expect(readFile(join(workDir, `run${runCount}`, "test_return_values_2.sqlite"))).rejects.toThrow();
  });

  it("methods: fills the test class, passes the qualified name, handles obj.m(), Class.m(obj) and chains", async () => {
    const source = `import unittest

from targets import Cart


class TestCart(unittest.TestCase):
    def setUp(self):
        self.cart = Cart([1, 2])
        self.cart.total()

    def test_total(self):
        self.assertEqual(self.cart.total(), 3)
        self.assertEqual(Cart.total(self.cart, tax=1), 4)
        self.assertEqual(Cart([5]).total(), 5)


class TestPlain:
    def test_chain(self):
        assert Cart([2]).total(tax=Cart([1]).total()) == 3
`;
    const { behavior, perf } = await instrumentPythonTests(source, {
      testModulePath: MODULE,
      functionName: "total",
      qualifiedName: "Cart.total",
      isAsync: false,
    });
    await compiles(perf);
    const result = await runInstrumented(behavior);
    expect(result.outcomes).toEqual({ "TestCart.test_total": "passed", "TestPlain.test_chain": "passed" });
    const seen = result.starts.map((m) => `${m.testClass}.${m.test}:${m.fn}:${m.invocation}`);
    expect(seen).toEqual([
      "TestCart.test_total:Cart.total:0_0",
      "TestCart.test_total:Cart.total:1_0",
      "TestCart.test_total:Cart.total:2_0",
      "TestPlain.test_chain:Cart.total:0_0",
      "TestPlain.test_chain:Cart.total:0_1",
    ]);
    expect(result.ends).toEqual(result.starts);
    expect(result.stdout).toContain(
      "!$######tests.test_targets__unit_test_0:TestCart.test_total:Cart.total:1:0_0######$!",
    );
    expect(result.rows.map((row) => [row.test_class_name, row.iteration_id, row.return_value])).toEqual([
      ["TestCart", "0_0", [[], {}, 3]],
      ["TestCart", "1_0", [[{ object: "Cart", state: { prices: [1, 2] } }], { tax: 1 }, 4]],
      ["TestCart", "2_0", [[], {}, 5]],
      ["TestPlain", "0_0", [[], {}, 1]],
      ["TestPlain", "0_1", [[], { tax: 1 }, 3]],
    ]);
  });

  const ASYNC_TESTS = `import asyncio

from targets import fetch_double


def test_sync_driver():
    assert asyncio.run(fetch_double(2)) == 4


async def test_awaited():
    assert await fetch_double(3) == 6
    results = await asyncio.gather(fetch_double(1), fetch_double(2))
    assert results == [2, 4]
    try:
        await fetch_double(-1)
    except ValueError:
        pass
    else:
        raise AssertionError("expected a ValueError")
`;
  const ASYNC_OPTIONS: PythonInstrumentationOptions = {
    testModulePath: MODULE,
    functionName: "fetch_double",
    qualifiedName: "fetch_double",
    isAsync: true,
  };

  it("async: the wrapper is a coroutine, awaited, gathered or run by asyncio.run", async () => {
    const { behavior, perf } = await instrumentPythonTests(ASYNC_TESTS, ASYNC_OPTIONS);
    expect(behavior).toContain("async def codeflash_wrap(");
    expect(behavior).toContain("    assert await codeflash_wrap(fetch_double, ");
    const result = await runInstrumented(behavior);
    expect(result.outcomes).toEqual({ test_sync_driver: "passed", test_awaited: "passed" });
    const values = Object.fromEntries(
      result.rows.map((row) => [`${row.test_function_name}:${row.iteration_id}`, row.return_value]),
    );
    expect(values).toEqual({
      "test_sync_driver:0_0": [[2], {}, 4],
      "test_awaited:0_0": [[3], {}, 6],
      "test_awaited:1_0": [[1], {}, 2],
      "test_awaited:1_1": [[2], {}, 4],
      "test_awaited:3_0": [[-1], {}, { exception: "ValueError", args: ["negative"] }],
    });
    expect(result.starts).toHaveLength(5);
    expect(new Set(result.ends.map((m) => m.invocation))).toEqual(
      new Set(result.starts.map((m) => m.invocation)),
    );

    const timed = await runInstrumented(perf, { loopIndex: 2 });
    expect(timed.outcomes).toEqual({ test_sync_driver: "passed", test_awaited: "passed" });
    expect(timed.ends).toHaveLength(5);
    for (const end of timed.ends) {
      expect(end.loop).toBe(2);
      expect(end.duration).toBeGreaterThan(0);
    }
  });

  it("async: defers to the decorator the client puts on async targets", async () => {
    const source =
      "from decorated_targets import fetch_double\n\nasync def test_decorated():\n    assert await fetch_double(5) == 10\n    assert await fetch_double(6) == 12\n";
    const { behavior } = await instrumentPythonTests(source, ASYNC_OPTIONS);
    const result = await runInstrumented(behavior);
    expect(result.outcomes).toEqual({ test_decorated: "passed" });
    // Only the client decorator's markers, with the line ids the wrapper put in the environment.
    expect(result.stdout).toBe(
      "!$######client-decorator:fetch_double:0######$!\n!$######client-decorator:fetch_double:1######$!\n",
    );
    expect(result.rows).toEqual([]);
  });
});
