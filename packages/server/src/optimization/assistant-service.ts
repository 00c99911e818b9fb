/**
 * The endpoints that judge or describe rather than produce code: explain, rank,
 * optimization_review and workflow-gen. Each asks the assistant (or judge) model and checks the
 * answer's shape before it goes out; rank falls back to the measured speedups.
 */
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { cleanExplanation, extractCodeBlocks } from "../code/index.js";
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
import { promptLanguageOf, promptTemplate } from "./prompts/index.js";
import { type PromptEndpoint, type PromptValues, promptText } from "./prompts/prompt-variables.js";
import type {
  ExplainRequest,
  OptimizationReviewRequest,
  RankRequest,
  WorkflowGenRequest,
} from "./schemas.js";

/** Indices best first by speedup (unknown last), then by smaller diff. */
export function rankBySpeedup(request: RankRequest): number[] {
  const speedups = request.speedups ?? [];
  return request.diffs
    .map((diff, index) => ({ index, speedup: speedups[index] ?? null, size: diff.length }))
    .sort(
      (a, b) =>
        (b.speedup ?? Number.NEGATIVE_INFINITY) - (a.speedup ?? Number.NEGATIVE_INFINITY) ||
        a.size - b.size ||
        a.index - b.index,
    )
    .map((entry) => entry.index);
}

export class AssistantService {
  constructor(private readonly engine: OptimizationEngine) {}

  explain(body: ExplainRequest, context: RequestContext): Promise<{ explanation: string }> {
    return this.engine.run(callIdentity("explain", body.trace_id, body, context), async (scope) => {
      const language = (body.language ?? "python").toLowerCase();
      const throughput =
        body.original_throughput != null || body.optimized_throughput != null
          ? `Throughput: ${promptText(body.original_throughput, "?")} → ${promptText(body.optimized_throughput, "?")} (${promptText(body.throughput_improvement, "?")})`
          : "";
      const concurrency =
        body.original_concurrency_ratio != null
          ? `Concurrency ratio: ${promptText(body.original_concurrency_ratio)} → ${promptText(body.optimized_concurrency_ratio)} (${promptText(body.concurrency_improvement)})`
          : "";
      const values: PromptValues<"explain"> = {
        language,
        source_code: body.source_code,
        optimized_code: body.optimized_code,
        original_explanation: promptText(body.original_explanation),
        original_code_runtime: promptText(body.original_code_runtime, "unknown"),
        optimized_code_runtime: promptText(body.optimized_code_runtime, "unknown"),
        speedup: promptText(body.speedup, "unknown"),
        original_line_profiler_results: promptText(body.original_line_profiler_results),
        optimized_line_profiler_results: promptText(body.optimized_line_profiler_results),
        throughput_section: [
          throughput,
          concurrency,
          body.acceptance_reason ? `Accepted for: ${body.acceptance_reason}` : "",
        ]
          .filter((line) => line !== "")
          .join("\n"),
        annotated_tests: promptText(body.annotated_tests),
        dependency_code: promptText(body.dependency_code),
        function_references: promptText(body.function_references),
      };
      const answer = await scope.caller.ask({
        model: scope.assistantModel,
        label: "explanation",
        prompt: this.prompt(scope, "explain", language, values),
        temperature: 0.3,
        maxTokens: 1024,
      });
      // An empty explanation makes the client keep the candidate's own (§3.9): a valid answer.
      return { explanation: cleanExplanation(extractCodeBlocks(answer.text).prose) };
    });
  }

  rank(body: RankRequest, context: RequestContext): Promise<{ ranking: number[] }> {
    return this.engine.run(callIdentity("rank", body.trace_id, body, context), async (scope) => {
      const bySpeedup = rankBySpeedup(body);
      if (scope.judgeModel === undefined || body.diffs.length < 2) {
        scope.recorder.note("ranked by speedup (no judge model configured)");
        return { ranking: bySpeedup };
      }
      const values: PromptValues<"rank"> = {
        count: String(body.diffs.length),
        function_references: promptText(body.function_references),
        candidates: body.diffs
          .map((diff, index) => {
            const speedup = body.speedups?.[index];
            return `### Candidate ${index} (speedup ${speedup == null ? "unknown" : `${speedup.toFixed(3)}x`})\n${diff}`;
          })
          .join("\n\n"),
      };
      const shape = z.object({ ranking: z.array(z.number().int()) });
      try {
        const answer = await scope.caller.ask({
          model: scope.judgeModel,
          label: "ranking",
          prompt: this.prompt(scope, "rank", body.language ?? "generic", values),
          temperature: 0,
          maxTokens: 512,
        });
        const parsed = parseModelJson(answer.text, shape);
        if (parsed !== undefined) {
          // In range, each once; candidates the judge left out follow in speedup order.
          const chosen = [...new Set(parsed.ranking.filter((i) => i >= 0 && i < body.diffs.length))];
          if (chosen.length > 0)
            return { ranking: [...chosen, ...bySpeedup.filter((i) => !chosen.includes(i))] };
        }
        scope.recorder.note("judge answer unusable: ranked by speedup");
      } catch (error) {
        scope.recorder.note(`judge failed (${errorMessage(error)}): ranked by speedup`);
      }
      return { ranking: bySpeedup };
    });
  }

  review(
    body: OptimizationReviewRequest,
    context: RequestContext,
  ): Promise<{ review: "high" | "medium" | "low"; review_explanation: string }> {
    return this.engine.run(
      callIdentity("optimization_review", body.trace_id, body, context),
      async (scope) => {
        const language = (body.language ?? "python").toLowerCase();
        const values: PromptValues<"optimization_review"> = {
          language,
          original_code: body.original_code,
          optimized_code: body.optimized_code,
          explanation: promptText(body.explanation),
          speedup: promptText(body.speedup, "unknown"),
          original_runtime: promptText(body.original_runtime, "unknown"),
          optimized_runtime: promptText(body.optimized_runtime, "unknown"),
          existing_tests: promptText(body.existing_tests),
          generated_tests: promptText(body.generated_tests),
          replay_tests: promptText(body.replay_tests),
          coverage_message: promptText(body.coverage_message),
          benchmark_details: body.benchmark_details == null ? "" : JSON.stringify(body.benchmark_details),
          calling_fn_details: promptText(body.calling_fn_details),
        };
        const shape = z.object({
          review: z
            .string()
            .transform((value) => value.trim().toLowerCase())
            .pipe(z.enum(["high", "medium", "low"])),
          review_explanation: z.string().nullish(),
        });
        return askUntilValid(
          scope,
          {
            endpoint: "optimization_review",
            model: scope.assistantModel,
            label: "review",
            prompt: this.prompt(scope, "optimization_review", language, values),
            maxTokens: 1024,
          },
          [0.2, 0],
          (text): Judged<{ review: "high" | "medium" | "low"; review_explanation: string }> => {
            const parsed = parseModelJson(text, shape);
            if (parsed === undefined)
              return { reason: "unparsable", problem: "no JSON high/medium/low review" };
            return { value: { review: parsed.review, review_explanation: parsed.review_explanation ?? "" } };
          },
        );
      },
    );
  }

  workflow(body: WorkflowGenRequest, context: RequestContext): Promise<{ workflow_steps: string }> {
    const traceId = body.trace_id ?? `workflow-${Date.now()}`;
    return this.engine.run(callIdentity("workflow-gen", traceId, body, context), async (scope) => {
      const files = Object.entries(body.repo_files ?? {})
        .slice(0, 40)
        .map(([path, content]) => `### ${path}\n${(content ?? "").slice(0, 4000)}`)
        .join("\n\n");
      const values: PromptValues<"workflow_gen"> = {
        repo_files: files,
        directory_structure: JSON.stringify(body.directory_structure ?? {}, null, 1).slice(0, 20_000),
        codeflash_config: JSON.stringify(body.codeflash_config ?? null),
      };
      return askUntilValid(
        scope,
        {
          endpoint: "workflow-gen",
          model: scope.assistantModel,
          label: "workflow",
          prompt: this.prompt(scope, "workflow_gen", "generic", values),
          maxTokens: 2048,
        },
        [0.2, 0],
        (text): Judged<{ workflow_steps: string }> => {
          const steps = workflowSteps(text);
          return steps === undefined
            ? { reason: "invalid_yaml", problem: "no YAML list of steps" }
            : { value: { workflow_steps: steps } };
        },
      );
    });
  }

  private prompt<E extends PromptEndpoint>(
    scope: CallScope,
    endpoint: E,
    language: string,
    values: PromptValues<E>,
  ) {
    return renderPrompt(promptTemplate(endpoint, promptLanguageOf(language), scope.promptVersion), values);
  }
}

/**
 * The `steps:` YAML in a model's answer, re-serialized: a list of step mappings each with `uses`
 * or `run`. A `steps:` key or a whole job/workflow around the list is unwrapped.
 */
export function workflowSteps(answer: string): string | undefined {
  const blocks = extractCodeBlocks(answer).blocks;
  const sources = blocks.length > 0 ? blocks.map((b) => b.code) : [answer];
  for (const source of sources) {
    let value: unknown;
    try {
      value = parseYaml(source);
    } catch {
      continue;
    }
    const steps = findSteps(value);
    if (steps !== undefined) return stringifyYaml(steps);
  }
  return undefined;
}

function isStep(value: unknown): boolean {
  return value !== null && typeof value === "object" && ("uses" in value || "run" in value);
}

function findSteps(value: unknown, depth = 0): unknown[] | undefined {
  if (depth > 4 || value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) return value.length > 0 && value.every(isStep) ? value : undefined;
  for (const [key, child] of Object.entries(value)) {
    if (key === "steps") {
      const steps = findSteps(child, depth + 1);
      if (steps !== undefined) return steps;
    }
  }
  for (const child of Object.values(value)) {
    const steps = findSteps(child, depth + 1);
    if (steps !== undefined) return steps;
  }
  return undefined;
}
