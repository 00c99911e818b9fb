/**
 * Language knowledge shared by the optimization prompts: how to make code fast in each prompt
 * language, what the answer's code blocks must look like for it, how to write tests for it, and
 * the JIT/vectorization text the service inserts at `{{numerical_section}}`.
 *
 * Nothing here uses a `{{placeholder}}`: these texts are pasted into templates of endpoints with
 * different variables (and NUMERICAL_GUIDANCE is itself a value), so they must render anywhere.
 */
import type { PromptLanguage } from "./prompt-variables.js";

const list = (...items: string[]): string => items.map((item) => `- ${item}`).join("\n");

const V8_IDIOMS = [
  "Algorithm first: Map and Set instead of Array.includes / indexOf / find / filter inside loops; sort once instead of repeatedly; no quadratic patterns such as splice, shift or unshift inside loops or repeated copies of arrays and strings.",
  "Avoid intermediate arrays: on hot paths fuse chained map / filter / reduce / slice / concat / Object.entries into one loop that writes straight into the result.",
  "Use plain indexed for loops (length cached in a local) on hot paths instead of forEach, for...in, or callbacks and closures created per iteration.",
  "Never spread or concat inside a loop or a reduce (`[...acc, x]`, `{ ...obj, [k]: v }`, `acc.concat(x)`): every copy makes the loop quadratic. Push into, or assign onto, one local accumulator.",
  "Hoist loop-invariant work into locals or module constants: repeated property lookups, RegExp objects, closures, constant computations; build strings by collecting parts and joining once.",
  "Keep objects and arrays monomorphic: create objects with all their properties in the same order, do not delete properties, do not mix small integers, doubles and objects in one array.",
  "Preallocate when the final size is known; exit early once the result is decided.",
  "No new npm dependencies; keep the module system (import/export or require/module.exports) that the file already uses.",
];

const V8_TRAPS =
  "Behaviour traps: Array.prototype.sort sorts in place and, without a comparator, compares as strings; Map and Set compare keys with SameValueZero while plain-object keys are coerced to strings; Object.keys lists integer-like keys first; do not mutate arrays or objects the caller passed unless the original did; NaN, -0, undefined versus null and array holes must come out the same; async functions stay async and keep the order of their awaits and side effects.";

/** How to make code fast, per prompt language, in order of payoff, with the traps that break equivalence. */
export const SPEED_IDIOMS: Record<PromptLanguage, string> = {
  python: [
    "How to make Python fast, in order of payoff:",
    list(
      "Algorithm first: replace nested scans (`x in some_list` inside a loop, list.index, repeated sorting, list.pop(0) / insert(0, x), string concatenation in a loop) with a better algorithm or data structure: dicts and sets for membership and lookups, collections.deque for queues, heapq for top-k, bisect for sorted data, one sort instead of many.",
      "Let C code do the work: built-ins (sum, min, max, any, all, sorted, len, map, zip, enumerate), str methods and str.join, itertools, collections.Counter / defaultdict and operator.itemgetter instead of equivalent Python loops and lambdas.",
      "Comprehensions and generator expressions instead of loops that append; one pass over the data instead of several.",
      "Cache what a hot loop looks up repeatedly in local variables: globals, module attributes (`sqrt = math.sqrt`), bound methods (`append = out.append`), `self.attr`, constants and loop-invariant expressions.",
      "Avoid needless copies and conversions: list(...) of something already iterable, slicing inside loops, repeated str/int conversions, temporary lists built only to be iterated once.",
      "Exit early as soon as the result is known.",
      "functools.lru_cache / functools.cache only when the function is pure, its arguments are hashable, callers never mutate the cached results, and the cache cannot grow without bound or change behaviour between calls; never as a way around repeated work on mutable inputs.",
      "Use only the standard library and the packages the code already imports, and only features of the project's Python version.",
    ),
    "Behaviour traps: a set loses order and duplicates (dedupe in order with dict.fromkeys); sorted() is stable and a replacement must be too; a generator is lazy and single-use where the original returned a list; int, float and bool results must keep their type (sum of ints stays int); `is` is not `==`; invalid input must raise the same exception type as before (max() of an empty sequence, a missing key); do not reorder floating-point arithmetic when that changes the result.",
  ].join("\n"),
  javascript: [
    "How to make JavaScript fast on V8 (Node.js), in order of payoff:",
    list(...V8_IDIOMS),
    V8_TRAPS,
  ].join("\n"),
  typescript: [
    "How to make TypeScript fast (it runs as JavaScript on V8, Node.js), in order of payoff:",
    list(
      ...V8_IDIOMS,
      "Keep the types: every annotation, generic parameter, interface / type declaration, exported name and `export` keyword stays; new code compiles under `strict` without `any`, `@ts-ignore` or non-null assertions on values that can be null.",
    ),
    V8_TRAPS,
  ].join("\n"),
  generic: [
    "How to make the code fast, in order of payoff:",
    list(
      "Algorithmic complexity first: hash maps and sets for lookups and membership, sort once, no nested scans, no repeated work on the same data. This is where large speed-ups come from.",
      "Then allocation and copying: preallocate capacity (`new ArrayList<>(n)`, `make([]T, 0, n)`), build strings with StringBuilder / strings.Builder, avoid boxing (primitive arrays instead of List<Integer>), avoid temporary collections and copies, reuse buffers in loops.",
      "Hoist invariant work out of loops: compile regular expressions once at class or package level (Pattern.compile, regexp.MustCompile), reuse formatters, cache lookups in locals.",
      "Prefer the standard library's optimized routines (Arrays.sort, System.arraycopy, slices / sort packages, copy, strings and bytes functions).",
      "Avoid reflection, exceptions as control flow, and streams or iterator chains on very hot paths where a plain loop is clearly faster.",
      "No new third-party dependencies.",
    ),
    "Behaviour traps: keep the same exceptions / errors, null or nil handling and result ordering (HashMap and Go map iteration order is unspecified: never let it decide the output order), integer overflow behaviour and thread-safety; Java: keep the enclosing class and the method modifiers; Go: keep the package clause, receivers and exported identifiers.",
  ].join("\n"),
};

/** Language rules for the code blocks of a candidate answer (how the client parses and applies them). */
export const CODE_BLOCK_RULES: Record<PromptLanguage, string> = {
  python:
    "Each block must compile on its own as a Python module: top-level code starts at column 0, and a method is returned inside its class, as it was given. New imports go at the top of the block, at module level.",
  javascript:
    "Each block is parsed as JavaScript. Keep the file's import / require lines at the top of the block and add new ones there; keep `export` keywords and `module.exports` assignments; a method that was given inside its class is returned inside that class.",
  typescript:
    "Each block is parsed by the grammar of its path's extension: .ts / .tsx as TypeScript, anything else (.js, .mjs, .cjs) as JavaScript, so never put type syntax into a JavaScript file. Keep the file's import lines at the top of the block and add new ones there; keep `export` keywords, type annotations and exported names; a method that was given inside its class is returned inside that class.",
  generic:
    "Keep the package declaration, the imports and the enclosing class (Java) or receiver type (Go) around the functions exactly as given; add new imports next to the existing ones. Each block must compile as given.",
};

/** Why code in the language gets faster, for explanations. */
export const WHY_FASTER: Record<PromptLanguage, string> = {
  python:
    "in Python terms: fewer interpreted bytecode operations per element, work moved into C-implemented built-ins, better algorithmic complexity, fewer allocations and lookups",
  javascript:
    "in V8 terms: better algorithmic complexity, fewer allocations and intermediate arrays, monomorphic and inlinable hot loops, less garbage collection",
  typescript:
    "in V8 terms: better algorithmic complexity, fewer allocations and intermediate arrays, monomorphic and inlinable hot loops, less garbage collection",
  generic:
    "in concrete terms: better algorithmic complexity, fewer allocations and copies, less boxing, less repeated work",
};

/**
 * Rules for writing tests, per prompt language. Inserted in testgen and testgen_repair templates,
 * which both have `test_framework`, `function_name` and `import_statement` — but these texts use
 * none of them, so they render anywhere.
 */
export const TEST_RULES: Record<PromptLanguage, string> = {
  python: list(
    "Call the target directly by its name, one call per statement, and assign the result: `result = target(...)`; for a method, create an instance of its class and call `instance.method(...)`. Do not alias it, pass it as a callback (map, a sort key, functools.partial) or reach it through getattr: the server instruments only direct calls.",
    "Do not define your own version of the target, and do not mock or patch it or its helpers.",
    "Deterministic and self-contained: no unseeded randomness (use a local `random.Random(42)`), no clocks, threads, network, filesystem or environment variables, no printing of large data.",
    "Expected values must be right for the ORIGINAL code: assert exact values only when you are certain of them; compare floats with pytest.approx or math.isclose, never with ==; when unsure, assert properties (type, length, ordering, invariants) instead. A test that fails on the original code is worse than no test: the server compares the recorded results of the original and the optimized code, so the inputs matter more than the assertions.",
    "Build fresh inputs inside each test (the target may mutate its arguments) and do not change module-level state.",
  ),
  javascript: list(
    "Call the target directly by its name, assign the result to a const, then assert on the const: `const result = target(input); expect(result).toEqual(expected);`. For a method, construct an instance of its class and call `instance.method(...)`. Assertions are stripped when the tests are reused as benchmarks, so never make a call inside expect(...) the only call, and never pass the target as a callback.",
    "Do not mock the target or its helpers (no jest.mock / vi.mock of their modules) and do not redefine them.",
    "Deterministic and self-contained: no Math.random (write a small seeded generator in the test if needed), no Date.now, timers, network, fs or environment variables, no console output of large data.",
    "Expected values must be right for the ORIGINAL code: assert exact values only when you are certain of them; compare floats with toBeCloseTo (or an epsilon check); when unsure, assert properties (type, length, ordering, invariants) instead. A test that fails on the original code is worse than no test.",
    "Build fresh inputs inside each test (the target may mutate its arguments).",
  ),
  typescript: list(
    "Call the target directly by its name, assign the result to a const, then assert on the const: `const result = target(input); expect(result).toEqual(expected);`. For a method, construct an instance of its class and call `instance.method(...)`. Assertions are stripped when the tests are reused as benchmarks, so never make a call inside expect(...) the only call, and never pass the target as a callback.",
    "Write TypeScript that type-checks under `strict`: annotate test data where inference is not enough, no `any`, no `@ts-ignore`.",
    "Do not mock the target or its helpers (no jest.mock / vi.mock of their modules) and do not redefine them.",
    "Deterministic and self-contained: no Math.random (write a small seeded generator in the test if needed), no Date.now, timers, network, fs or environment variables, no console output of large data.",
    "Expected values must be right for the ORIGINAL code: assert exact values only when you are certain of them; compare floats with toBeCloseTo (or an epsilon check); when unsure, assert properties (type, length, ordering, invariants) instead. A test that fails on the original code is worse than no test.",
    "Build fresh inputs inside each test (the target may mutate its arguments).",
  ),
  generic: list(
    "Call the target directly, one call per statement, and assign the result before asserting on it; for a method, construct an instance and call the method on it.",
    "Do not mock or redefine the target or its helpers.",
    "Deterministic and self-contained: no unseeded randomness, clocks, threads, network, filesystem or environment variables.",
    "Expected values must be right for the ORIGINAL code: assert exact values only when you are certain of them; compare floating-point values with a tolerance; when unsure, assert properties (length, ordering, invariants) instead. A test that fails on the original code is worse than no test.",
    "Build fresh inputs inside each test (the target may mutate its arguments).",
  ),
};

/** How a test file is laid out for each prompt language's usual frameworks. */
export const TEST_LAYOUT: Record<PromptLanguage, string> = {
  python:
    "With pytest: plain module-level functions named `test_...` (no fixtures that call the target); with unittest: `unittest.TestCase` subclasses with `test_...` methods.",
  javascript:
    'Use describe / test (or it) blocks: with vitest import { describe, test, expect } from "vitest"; with jest use its globals; with mocha use describe / it and node:assert/strict. Use the same module style (ESM import or CommonJS require) as the target\'s import line for every import.',
  typescript:
    'Use describe / test (or it) blocks: with vitest import { describe, test, expect } from "vitest"; with jest use its globals; with mocha use describe / it and node:assert/strict. Keep the target\'s import specifier exactly as given (it may end in .js although the source is .ts).',
  generic:
    "JUnit 5 / JUnit 4 / TestNG: one test class with @Test methods (assertEquals, assertThrows); go-test: `func TestXxx(t *testing.T)` functions in the package of the code under test (table-driven tests are welcome); other frameworks: their idiomatic layout.",
};

/**
 * What `{{numerical_section}}` holds when the client flags numerical code (`is_numerical_code`):
 * JIT and vectorization guidance. The service inserts it for optimize, optimize-line-profiler and
 * testgen (§6 of the protocol spec).
 */
export const NUMERICAL_GUIDANCE: Record<PromptLanguage, string> = {
  python: [
    "This is numerical code and a JIT compiler is available: consider JIT and vectorized rewrites besides the ordinary improvements.",
    list(
      "numpy vectorization: replace Python loops over arrays with whole-array operations (broadcasting, boolean masks, np.cumsum, np.bincount, np.searchsorted, np.add.reduceat, np.einsum); never convert between lists and arrays inside a loop.",
      "numba: move a tight loop over numbers or numpy arrays into a helper decorated with `@njit(cache=True)` (`from numba import njit` at module level) and call it from the original function, which keeps its name and signature. Only numbers and numpy arrays inside njit code, no Python objects, dicts of mixed types or string-heavy work (those fall back or fail to compile); the first call compiles, so use it where a loop really dominates.",
      "jax.jit / torch.compile: only when the code already uses jax or torch; keep the array library the code uses (do not convert torch tensors to numpy or back).",
      "Keep results equivalent: the same dtype, shape and container type, the same NaN / inf handling and the same exceptions; a reordered floating-point reduction may change the last bits, so use one only where the original's result was already order-independent.",
    ),
  ].join("\n"),
  javascript: [
    "This is numerical code: besides the ordinary improvements, consider:",
    list(
      "typed arrays (Float64Array, Int32Array, Uint8Array) for numeric buffers and intermediate results; if callers get a plain array from the original, return a plain array again (convert once at the end).",
      "allocation-free inner loops: no objects, arrays, closures or strings created per element; reuse preallocated buffers.",
      "plain indexed loops over contiguous numeric data, with loop-invariant Math.* work and property lookups hoisted into locals; do not mix integers and doubles or numbers and other values in one array.",
      "keep floating-point results identical: do not reorder sums or replace exact arithmetic with approximations.",
    ),
  ].join("\n"),
  typescript: [
    "This is numerical code: besides the ordinary improvements, consider:",
    list(
      "typed arrays (Float64Array, Int32Array, Uint8Array) for numeric buffers and intermediate results; keep the declared parameter and return types, so if callers get number[] from the original, return number[] again (convert once at the end).",
      "allocation-free inner loops: no objects, arrays, closures or strings created per element; reuse preallocated buffers.",
      "plain indexed loops over contiguous numeric data, with loop-invariant Math.* work and property lookups hoisted into locals; do not mix integers and doubles or numbers and other values in one array.",
      "keep floating-point results identical: do not reorder sums or replace exact arithmetic with approximations.",
    ),
  ].join("\n"),
  generic: [
    "This is numerical code: besides the ordinary improvements, consider:",
    list(
      "primitive arrays and contiguous memory instead of boxed collections; no allocation inside inner loops.",
      "loop-invariant computation hoisted, strength reduction, and the standard library's vectorized or intrinsic routines where they exist.",
      "keep floating-point results identical: do not reorder reductions or replace exact arithmetic with approximations.",
    ),
  ].join("\n"),
};
