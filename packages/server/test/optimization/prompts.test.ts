import { describe, expect, it } from "vitest";
import { renderPrompt, type PromptTemplate } from "../../src/inference/prompts/prompt-template.js";
import {
  NUMERICAL_GUIDANCE,
  PROMPT_LANGUAGES,
  PROMPT_VARIABLES,
  promptLanguageOf,
  promptTemplate,
  promptVersions,
  type PromptEndpoint,
} from "../../src/optimization/prompts/index.js";

const ENDPOINTS = Object.keys(PROMPT_VARIABLES) as PromptEndpoint[];
const CANDIDATE_ENDPOINTS: PromptEndpoint[] = [
  "optimize",
  "optimize_line_profiler",
  "refinement",
  "code_repair",
  "adaptive_optimize",
];

/** A distinct, recognizable value for every variable the service fills for the endpoint. */
function valuesFor(endpoint: PromptEndpoint): Record<string, string> {
  return Object.fromEntries(PROMPT_VARIABLES[endpoint].map((name) => [name, `<<${name.toUpperCase()}>>`]));
}

function placeholdersOf(template: PromptTemplate): Set<string> {
  const text = `${template.system}\n${template.user}`;
  return new Set([...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1] as string));
}

const CASES = ENDPOINTS.flatMap((endpoint) =>
  PROMPT_LANGUAGES.map((language) => [endpoint, language] as const),
);

describe("optimization prompt templates", () => {
  it.each(CASES)("%s/%s renders with exactly the service's variables", (endpoint, language) => {
    const template = promptTemplate(endpoint, language);
    expect(template.id).toBe(`${endpoint}.${language}`);
    expect(template.version).toBe(1);
    // renderPrompt throws on a placeholder the service does not fill.
    const rendered = renderPrompt(template, valuesFor(endpoint));
    const text = `${rendered.system}\n${rendered.user}`;
    expect(text).not.toMatch(/\{\{\w+\}\}/);
    // Every variable is relevant to its endpoint, and the templates use all of them.
    expect([...placeholdersOf(template)].sort()).toEqual([...PROMPT_VARIABLES[endpoint]].sort());
  });

  it.each(CASES.filter(([endpoint]) => CANDIDATE_ENDPOINTS.includes(endpoint)))(
    "%s/%s asks for ```<fence_tag>:<path> blocks with the given paths and no other fences",
    (endpoint, language) => {
      const template = promptTemplate(endpoint, language);
      expect(template.system + template.user).toContain("```{{fence_tag}}:<path>");
      const { system, user } = renderPrompt(template, valuesFor(endpoint));
      expect(system).toContain("```<<FENCE_TAG>>:<path>");
      expect(system + user).toContain("<<FILE_PATHS>>");
      for (const forbidden of ["```text", "```diff", "```bash"]) expect(system).toContain(forbidden);
      expect(system).toMatch(/three backticks/);
      expect(system).toMatch(/exceptions/);
      expect(system).toMatch(/mutation/);
      expect(system).toMatch(/explain/i);
    },
  );

  it("puts the JIT guidance slot into the optimize and line-profiler prompts", () => {
    for (const endpoint of ["optimize", "optimize_line_profiler", "testgen"] as const) {
      for (const language of PROMPT_LANGUAGES) {
        expect(promptTemplate(endpoint, language).user).toContain("{{numerical_section}}");
      }
    }
  });

  it("gives each language its own speed idioms", () => {
    const system = (language: (typeof PROMPT_LANGUAGES)[number]) =>
      promptTemplate("optimize", language).system;
    expect(system("python")).toMatch(/lru_cache/);
    expect(system("python")).toMatch(/comprehension/i);
    expect(system("javascript")).toMatch(/Map and Set/);
    expect(system("javascript")).toMatch(/spread/);
    expect(system("typescript")).toMatch(/export/);
    expect(system("typescript")).toMatch(/strict/);
    expect(system("generic")).toMatch(/Algorithmic complexity first/);
  });

  it.each(PROMPT_LANGUAGES)("testgen/%s names the framework, the import and a time limit", (language) => {
    const { system, user } = renderPrompt(promptTemplate("testgen", language), valuesFor("testgen"));
    const text = system + user;
    expect(text).toContain("<<TEST_FRAMEWORK>>");
    expect(text).toContain("<<IMPORT_STATEMENT>>");
    expect(text).toContain("<<TEST_TIMEOUT>> seconds");
    expect(text).toMatch(/edge cases/);
    expect(text).toMatch(/large-scale/);
    expect(text).toMatch(/network/);
    const fence = language === "generic" ? "<<LANGUAGE>>" : language;
    expect(user).toContain("exactly one ```" + fence + " fenced block");
  });

  it("tells Python testgen to call the target by name and not to trust exact float values", () => {
    const text = promptTemplate("testgen", "python").user;
    expect(text).toMatch(/directly by its name/);
    expect(text).toMatch(/pytest\.approx/);
  });

  it.each(PROMPT_LANGUAGES)(
    "testgen_repair/%s rewrites only the flagged tests and returns the whole file",
    (language) => {
      const { user } = renderPrompt(promptTemplate("testgen_repair", language), valuesFor("testgen_repair"));
      expect(user).toContain("<<FUNCTIONS_TO_REPAIR>>");
      expect(user).toMatch(/Rewrite only the listed tests/);
      expect(user).toMatch(/whole repaired test file/);
    },
  );

  it.each(PROMPT_LANGUAGES)("the JSON endpoints spell out their answer shape (%s)", (language) => {
    expect(promptTemplate("testgen_review", language).user).toContain('{"reviews": [{"test_index":');
    expect(promptTemplate("testgen_review", language).user).toContain('"functions": [{"function_name":');
    expect(promptTemplate("rank", language).user).toContain('{"ranking": [');
    const review = promptTemplate("optimization_review", language).user;
    expect(review).toContain('{"review": "high" | "medium" | "low", "review_explanation":');
    for (const endpoint of ["testgen_review", "rank", "optimization_review"] as const) {
      expect(promptTemplate(endpoint, language).user).toContain("Answer ONLY with this JSON object");
    }
  });

  it("asks workflow-gen for the steps in one yaml block with the API key from secrets", () => {
    const { user } = renderPrompt(promptTemplate("workflow_gen", "generic"), valuesFor("workflow_gen"));
    expect(user).toContain("```yaml");
    expect(user).toContain("CODEFLASH_API_KEY: ${{ secrets.CODEFLASH_API_KEY }}");
    expect(user).toContain("<<REPO_FILES>>");
  });

  it("asks explain for prose with the measured numbers", () => {
    const { user } = renderPrompt(promptTemplate("explain", "python"), valuesFor("explain"));
    expect(user).toContain("<<ORIGINAL_CODE_RUNTIME>>");
    expect(user).toContain("<<OPTIMIZED_CODE_RUNTIME>>");
    expect(user).toContain("<<SPEEDUP>>");
    expect(user).toMatch(/no code blocks/);
  });
});

describe("NUMERICAL_GUIDANCE", () => {
  it.each(PROMPT_LANGUAGES)("has placeholder-free text for %s", (language) => {
    expect(NUMERICAL_GUIDANCE[language].length).toBeGreaterThan(50);
    expect(NUMERICAL_GUIDANCE[language]).not.toMatch(/\{\{/);
  });

  it("names numba, numpy and jax for Python and typed arrays for JS/TS", () => {
    expect(NUMERICAL_GUIDANCE.python).toMatch(/@njit/);
    expect(NUMERICAL_GUIDANCE.python).toMatch(/numpy/);
    expect(NUMERICAL_GUIDANCE.python).toMatch(/jax\.jit/);
    expect(NUMERICAL_GUIDANCE.javascript).toMatch(/typed arrays/);
    expect(NUMERICAL_GUIDANCE.typescript).toMatch(/typed arrays/);
    expect(NUMERICAL_GUIDANCE.javascript).toMatch(/allocation-free/);
  });

  it("renders into the optimize prompt as a value", () => {
    const values = { ...valuesFor("optimize"), numerical_section: NUMERICAL_GUIDANCE.python };
    expect(renderPrompt(promptTemplate("optimize", "python"), values).user).toContain("@njit(cache=True)");
  });
});

describe("promptTemplate versions", () => {
  it.each(ENDPOINTS)("%s has version 1, the latest by default", (endpoint) => {
    expect(promptVersions(endpoint)).toEqual([1]);
    expect(promptTemplate(endpoint, "python")).toBe(promptTemplate(endpoint, "python", 1));
  });

  it("throws a clear error for an unknown version", () => {
    expect(() => promptTemplate("optimize", "python", 99)).toThrow(
      /prompt optimize: no version 99 \(available: 1\)/,
    );
    expect(() => promptTemplate("rank", "generic", 0)).toThrow(/no version 0/);
  });

  it("throws for an unknown endpoint or language instead of returning undefined", () => {
    expect(() => promptTemplate("nope" as PromptEndpoint, "python")).toThrow(
      /unknown prompt endpoint "nope"/,
    );
    expect(() => promptTemplate("optimize", "cobol" as "python")).toThrow(/no template for language "cobol"/);
    expect(() => promptTemplate("toString" as PromptEndpoint, "python")).toThrow(/unknown prompt endpoint/);
  });
});

describe("promptLanguageOf", () => {
  it.each([
    ["python", "python"],
    ["Python", "python"],
    ["javascript", "javascript"],
    ["jsx", "javascript"],
    ["typescript", "typescript"],
    ["TSX", "typescript"],
    ["java", "generic"],
    ["go", "generic"],
    ["rust", "generic"],
    ["", "generic"],
    [null, "generic"],
    [undefined, "generic"],
  ] as const)("maps %s to %s", (language, expected) => {
    expect(promptLanguageOf(language)).toBe(expected);
  });
});
