/** `/ai/testgen`: one regression test file, used to compare and time original and optimized code. */
import { TEST_LAYOUT, TEST_RULES } from "./language-guidance.js";
import type { PromptLanguage } from "./prompt-variables.js";
import { importRule, paragraphs, section, templatesFor, testFence } from "./template-kit.js";

const PURPOSE: Record<PromptLanguage, string> = {
  python:
    "The tests are inputs for comparing implementations: the server instruments every call of the target in your tests, records its arguments, return value or exception and its run time, and compares the records of the original implementation with those of optimized versions.",
  javascript:
    "The tests are inputs for comparing implementations: every call of the target in your tests is instrumented, its return value and run time recorded, and the records of the original implementation compared with those of optimized versions. Assertions are stripped for that run.",
  typescript:
    "The tests are inputs for comparing implementations: every call of the target in your tests is instrumented, its return value and run time recorded, and the records of the original implementation compared with those of optimized versions. Assertions are stripped for that run.",
  generic:
    "The tests are inputs for comparing implementations: every call of the target in your tests is instrumented, its results and run time recorded, and the records of the original implementation compared with those of optimized versions.",
};

export const TESTGEN_PROMPTS_V1 = templatesFor("testgen", 1, (language) => ({
  system: paragraphs(
    "You are an expert {{language}} test engineer. You write regression tests for a function that is about to be optimized for speed.",
    `${PURPOSE[language]} So the tests matter for the inputs they feed the function and for how much of its behaviour they cover: varied, realistic, correct and fast.`,
  ),
  user: paragraphs(
    "Write regression tests for `{{qualified_name}}` ({{language}} {{language_version}}) with {{test_framework}}.",
    section("Code under test (the function and its helpers):", "code", "source_code"),
    "Helper functions it calls (may be empty): {{helper_function_names}}",
    "{{async_note}}\n{{numerical_section}}",
    [
      "Rules:",
      `- Write one {{test_framework}} test file. ${TEST_LAYOUT[language]}`,
      `- ${importRule(language)}`,
      "- The function under test is `{{function_name}}`.",
      TEST_RULES[language],
      "- Cover three groups, as separate tests with descriptive names, about 10 to 20 tests in total:",
      "  1. basic cases: typical inputs and the function's documented behaviour;",
      "  2. edge cases: empty and single-element inputs, boundaries, duplicates, zero and negative values, unusual but valid values (unicode, very long strings, nested data), and inputs that raise (assert the error);",
      "  3. large-scale cases: inputs large enough to measure performance and expose complexity problems (for example 1,000 to 10,000 elements), each test finishing in well under {{test_timeout}} seconds even on a slow implementation; the tests are run many times in a loop.",
      "- When a note on numerical code is given above, it describes how the function is likely to be optimized: include inputs that such a rewrite must handle identically (dtypes, shapes, empty arrays, NaN and infinity) and that a JIT compiler accepts.",
    ].join("\n"),
    "This file is one of two written independently. To make them complement each other, also choose inputs that would expose a wrong optimization of this kind: {{variation}}",
    `Answer with exactly one \`\`\`${testFence(language)} fenced block that holds the whole test file, and nothing else.`,
  ),
}));
