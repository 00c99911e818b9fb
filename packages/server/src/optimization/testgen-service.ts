/**
 * testgen, testgen_repair and testgen_review. Generated tests must parse (a second, cooler
 * attempt when the first does not) and import the target the way the client expects; for
 * Python the server instruments them with codeflash's wrapper scheme (§3.6), for the other
 * languages the client instruments and the instrumented strings are echoes.
 */
import { z } from "zod";
import { checkSyntax, extractCodeBlocks, type Language, languageOf } from "../code/index.js";
import { instrumentPythonTests } from "../code/python-test-instrumentation.js";
import { errorMessage } from "../errors.js";
import { renderPrompt } from "../inference/prompts/prompt-template.js";
import { parseModelJson } from "./model-json.js";
import {
  askUntilValid,
  type CallScope,
  callIdentity,
  type Judged,
  type OptimizationEngine,
  type RequestContext,
} from "./optimization-engine.js";
import { NUMERICAL_GUIDANCE, promptLanguageOf, promptTemplate } from "./prompts/index.js";
import type { PromptEndpoint, PromptValues } from "./prompts/prompt-variables.js";
import { sampleAngle } from "./sampling.js";
import type {
  FunctionToOptimize,
  TestgenRepairRequest,
  TestgenRequest,
  TestgenReview,
  TestgenReviewRequest,
} from "./schemas.js";

export interface GeneratedTests {
  generated_tests: string;
  instrumented_behavior_tests: string;
  instrumented_perf_tests: string;
  raw_generated_tests?: string | null;
}

interface TestTarget {
  language: string;
  /** The code-tools language the test file is parsed as. */
  syntax: Language;
  functionName: string;
  qualifiedName: string;
  /** The class to import for a method, else the function. */
  importedName: string;
  importStatement: string;
  modulePath: string;
}

function targetOf(request: TestgenRequest | TestgenRepairRequest): TestTarget {
  const fn: FunctionToOptimize = request.function_to_optimize;
  const language = (request.language ?? fn.language ?? "python").toLowerCase();
  const functionName = fn.function_name;
  const className = request.class_name ?? fn.parents?.find((p) => p.type === "ClassDef")?.name ?? null;
  const qualifiedName =
    request.qualified_name ?? (className === null ? functionName : `${className}.${functionName}`);
  const importedName = className ?? functionName;
  const modulePath = request.module_path ?? "";
  let importStatement: string;
  if (language === "python") importStatement = `from ${modulePath} import ${importedName}`;
  else if (language === "java")
    importStatement = modulePath === "" ? "" : `import ${modulePath.replace(/[\\/]/g, ".")}.${importedName};`;
  // Go tests live in the package they test: nothing to import.
  else if (language === "go") importStatement = "";
  else if (request.module_system === "commonjs")
    importStatement = `const { ${importedName} } = require(${JSON.stringify(modulePath)});`;
  else importStatement = `import { ${importedName} } from ${JSON.stringify(modulePath)};`;
  const syntax = languageOf(language) ?? "python";
  return { language, syntax, functionName, qualifiedName, importedName, importStatement, modulePath };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Adds the import of the target when the model forgot it (the commonest failure of small models). */
function ensureImport(code: string, target: TestTarget): string {
  if (target.modulePath === "" || target.importStatement === "" || target.language === "java") return code;
  const imported =
    target.language === "python"
      ? new RegExp(
          `^\\s*(from\\s+${escapeRegExp(target.modulePath)}\\s+import|import\\s+${escapeRegExp(target.modulePath)}\\b)`,
          "m",
        )
      : new RegExp(`["']${escapeRegExp(target.modulePath)}["']`);
  return imported.test(code) ? code : `${target.importStatement}\n${code}`;
}

/** The test file in a model's answer: the longest block in the target language, else the bare answer. */
function testCodeOf(answer: string, target: TestTarget): string {
  const { blocks, prose } = extractCodeBlocks(answer, { defaultLanguage: target.syntax });
  const family = (language: Language | undefined) =>
    language === target.syntax ||
    (target.syntax !== "python" &&
      language !== undefined &&
      language !== "python" &&
      language !== "go" &&
      language !== "java" &&
      language !== "rust");
  const matching = blocks.filter((b) => family(b.language));
  const longest = matching.sort((a, b) => b.code.length - a.code.length)[0];
  return (longest?.code ?? (blocks.length === 0 ? prose : "")).trim();
}

export class TestgenService {
  constructor(private readonly engine: OptimizationEngine) {}

  testgen(body: TestgenRequest, context: RequestContext): Promise<GeneratedTests> {
    return this.engine.run(callIdentity("testgen", body.trace_id, body, context), async (scope) => {
      const target = targetOf(body);
      const values: PromptValues<"testgen"> = {
        language: target.language,
        language_version: body.language_version ?? body.python_version ?? "unknown",
        test_framework: body.test_framework ?? (target.language === "python" ? "pytest" : "jest"),
        function_name: target.functionName,
        qualified_name: target.qualifiedName,
        source_code: body.source_code_being_tested,
        helper_function_names: (body.helper_function_names ?? []).join(", "),
        import_statement: target.importStatement,
        async_note: body.is_async === true ? "The function is async: await it inside async tests." : "",
        numerical_section:
          body.is_numerical_code === true
            ? `${NUMERICAL_GUIDANCE[promptLanguageOf(target.language)]}\nUse input types a JIT compiler accepts (numpy arrays of numbers, not Python objects).`
            : "",
        test_timeout: String(body.test_timeout ?? 15),
        variation: sampleAngle(body.test_index ?? 0),
      };
      return this.generate(scope, "testgen", values, target, body);
    });
  }

  repair(body: TestgenRepairRequest, context: RequestContext): Promise<GeneratedTests> {
    return this.engine.run(callIdentity("testgen_repair", body.trace_id, body, context), async (scope) => {
      const target = targetOf(body);
      const values: PromptValues<"testgen_repair"> = {
        language: target.language,
        test_framework: body.test_framework ?? (target.language === "python" ? "pytest" : "jest"),
        function_name: target.functionName,
        function_source_code: body.function_source_code ?? "",
        module_source_code: body.module_source_code ?? "",
        import_statement: target.importStatement,
        test_source: body.test_source,
        functions_to_repair: (body.functions_to_repair ?? [])
          .map((f) => `- ${f.function_name}: ${f.reason ?? "flagged by review"}`)
          .join("\n"),
        previous_repair_errors: Object.entries(body.previous_repair_errors ?? {})
          .map(([name, error]) => `- ${name}: ${error ?? ""}`)
          .join("\n"),
        coverage: body.coverage_details === undefined ? "" : JSON.stringify(body.coverage_details),
      };
      return this.generate(scope, "testgen_repair", values, target, body);
    });
  }

  review(body: TestgenReviewRequest, context: RequestContext): Promise<TestgenReview> {
    return this.engine.run(callIdentity("testgen_review", body.trace_id, body, context), async (scope) => {
      if (body.tests.length === 0) return { reviews: [] };
      const language = (body.language ?? "python").toLowerCase();
      const values: PromptValues<"testgen_review"> = {
        language,
        function_name: body.function_name ?? "",
        function_source_code: body.function_source_code ?? "",
        tests: body.tests
          .map((t) => {
            const failures = Object.entries(t.failure_messages ?? {})
              .map(([name, message]) => `- ${name}: ${message ?? ""}`)
              .join("\n");
            return [
              `### Test file ${t.test_index}`,
              `Failed on the original code: ${(t.failed_test_functions ?? []).join(", ") || "none"}`,
              failures,
              "```" + language,
              t.test_source,
              "```",
            ].join("\n");
          })
          .join("\n\n"),
        coverage: [
          body.coverage_summary ?? "",
          body.coverage_details === undefined ? "" : JSON.stringify(body.coverage_details),
        ]
          .join("\n")
          .trim(),
      };
      const prompt = renderPrompt(
        promptTemplate("testgen_review", promptLanguageOf(language), scope.promptVersion),
        values,
      );
      const shape = z.object({
        reviews: z
          .array(
            z.object({
              test_index: z.number().int(),
              functions: z
                .array(z.object({ function_name: z.string().min(1), reason: z.string().nullish() }))
                .default([]),
            }),
          )
          .default([]),
      });
      const known = new Set(body.tests.map((t) => t.test_index));
      return askUntilValid(
        scope,
        { endpoint: "testgen_review", model: scope.assistantModel, label: "review", prompt, maxTokens: 2048 },
        [0.2, 0],
        (text): Judged<TestgenReview> => {
          const parsed = parseModelJson(text, shape);
          if (parsed === undefined) return { reason: "unparsable", problem: "no JSON reviews object" };
          // test_index is used as a list index by the client: only indices it sent may come back.
          const reviews = parsed.reviews
            .filter((r) => known.has(r.test_index))
            .map((r) => ({
              test_index: r.test_index,
              functions: r.functions.map((f) => ({ function_name: f.function_name, reason: f.reason ?? "" })),
            }));
          return { value: { reviews } };
        },
      );
    });
  }

  private async generate<E extends Extract<PromptEndpoint, "testgen" | "testgen_repair">>(
    scope: CallScope,
    endpoint: E,
    values: PromptValues<E>,
    target: TestTarget,
    body: TestgenRequest | TestgenRepairRequest,
  ): Promise<GeneratedTests> {
    const prompt = renderPrompt(
      promptTemplate(endpoint, promptLanguageOf(target.language), scope.promptVersion),
      values,
    );
    return askUntilValid(
      scope,
      { endpoint, model: scope.assistantModel, label: "tests", prompt },
      [0.4, 0.1],
      async (text): Promise<Judged<GeneratedTests>> => {
        const code = testCodeOf(text, target);
        if (code === "") return { reason: "no_code", problem: "the answer holds no test code" };
        const tests = ensureImport(code, target);
        const syntax = await checkSyntax(tests, target.syntax);
        if (!syntax.ok) {
          const message = syntax.errors[0]?.message ?? "syntax error";
          return { reason: "syntax_error", problem: `the tests do not parse: ${message}` };
        }
        if (target.language !== "python") {
          // The client instruments JS/TS/Java itself and discards these two (§3.6), but needs strings.
          const value = {
            generated_tests: tests,
            instrumented_behavior_tests: tests,
            instrumented_perf_tests: tests,
          };
          return { value: { ...value, raw_generated_tests: text } };
        }
        try {
          const instrumented = await instrumentPythonTests(tests, {
            testModulePath: body.test_module_path ?? "tests.test_generated",
            functionName: target.functionName,
            qualifiedName: target.qualifiedName,
            isAsync: body.is_async === true || body.function_to_optimize.is_async === true,
          });
          return {
            value: {
              generated_tests: tests,
              instrumented_behavior_tests: instrumented.behavior,
              instrumented_perf_tests: instrumented.perf,
              raw_generated_tests: text,
            },
          };
        } catch (error) {
          return {
            reason: "instrumentation_failed",
            problem: `cannot instrument the tests: ${errorMessage(error)}`,
          };
        }
      },
    );
  }
}
