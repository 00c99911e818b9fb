/** `/ai/testgen_review`: flag generated tests that are wrong, weak or slow (JSON answer). */
import type { PromptLanguage } from "./prompt-variables.js";
import { jsonOnly, paragraphs, section, templatesFor } from "./template-kit.js";

const TEST_NAME: Record<PromptLanguage, string> = {
  python: "the test function's name exactly as in the file: test_x, or TestClass.test_x for a method",
  javascript:
    "the test's name exactly as given to test() / it() in the file, or as listed among the failures",
  typescript:
    "the test's name exactly as given to test() / it() in the file, or as listed among the failures",
  generic: "the test method's or function's name exactly as in the file, or as listed among the failures",
};

export const TESTGEN_REVIEW_PROMPTS_V1 = templatesFor("testgen_review", 1, (language) => ({
  system: paragraphs(
    "You are a meticulous {{language}} test reviewer. Generated regression tests will be used to check that optimized versions of a function behave exactly like the original and to time them; you decide which of those tests must be rewritten.",
    "The original code is the reference: a test that fails on it is wrong, never the code.",
  ),
  user: paragraphs(
    "Review the generated {{language}} regression tests for `{{function_name}}`.",
    section("Source of the function (or its module):", "function_source", "function_source_code"),
    section(
      "Generated test files, each with its index, the tests that failed when run against the ORIGINAL code, and their failure messages:",
      "tests",
      "tests",
    ),
    section("Coverage of the function by these tests (empty when unknown):", "coverage", "coverage"),
    [
      "Flag a test only when it needs to be rewritten:",
      "- wrong: it fails on the original code (every failure listed above is wrong by definition), or it asserts a value or an error the original does not produce;",
      "- weak: it does not call `{{function_name}}`, only repeats trivial inputs another test already covers, asserts nothing meaningful, or leaves out behaviour that the coverage shows as unexecuted;",
      "- slow or flaky: inputs so large a run may approach the time limit, sleeps, unseeded randomness, clocks, network or filesystem access.",
      "Do not flag tests that are fine; an empty list is a good answer. Give each flagged test a reason that says what is wrong and how to fix it, in one sentence.",
    ].join("\n"),
    jsonOnly(
      `{"reviews": [{"test_index": <index of the test file, as shown above>, "functions": [{"function_name": "<${TEST_NAME[language]}>", "reason": "<what is wrong and how to fix it>"}]}]}\nList each test file that has flagged tests once, use only the test_index values shown above, and answer {"reviews": []} when every test is fine.`,
    ),
  ),
}));
