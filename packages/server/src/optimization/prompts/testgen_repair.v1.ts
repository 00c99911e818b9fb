/** `/ai/testgen_repair`: rewrite the flagged tests, return the whole test file. */
import { TEST_RULES } from "./language-guidance.js";
import { importRule, paragraphs, section, templatesFor, testFence } from "./template-kit.js";

export const TESTGEN_REPAIR_PROMPTS_V1 = templatesFor("testgen_repair", 1, (language) => ({
  system: paragraphs(
    "You are an expert {{language}} test engineer. You repair individual tests in a generated {{test_framework}} regression test file; the file is used to check that optimized versions of a function behave exactly like the original and to time them.",
    "The original code is the reference: a test that fails on it is wrong, never the code.",
  ),
  user: paragraphs(
    "Repair the flagged tests in this {{test_framework}} test file for `{{function_name}}` ({{language}}).",
    section("Source of the function under test:", "function_source", "function_source_code"),
    section("Its whole module (empty when not given):", "module_source", "module_source_code"),
    section("Current test file:", "test_file", "test_source"),
    section("Tests to rewrite, each with the reviewer's reason:", "tests_to_repair", "functions_to_repair"),
    section(
      "Errors of the previous repair attempt, to avoid repeating them (empty on the first attempt):",
      "previous_errors",
      "previous_repair_errors",
    ),
    section("Coverage of the function by the current tests (empty when unknown):", "coverage", "coverage"),
    [
      "Rules:",
      "- Rewrite only the listed tests, each keeping its name, and fix exactly what its reason says; if a test cannot be made correct, replace its body with a correct test of the same behaviour area. Every other line of the file stays exactly as it is.",
      `- ${importRule(language)}`,
      "- The function under test is `{{function_name}}`.",
      TEST_RULES[language],
    ].join("\n"),
    `Answer with exactly one \`\`\`${testFence(language)} fenced block that holds the whole repaired test file, and nothing else.`,
  ),
}));
