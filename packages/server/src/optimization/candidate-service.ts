/**
 * The candidate-producing endpoints: optimize, optimize-line-profiler, refinement, code_repair,
 * adaptive_optimize (and the legacy rewrite_jit). Each plans its samples, asks the models
 * concurrently, and keeps only what the client will accept: salvaged, re-rendered in the
 * client's format, parsed, signature-checked and deduplicated (code/candidate-salvage.ts).
 */
import { randomUUID } from "node:crypto";
import {
  CandidateDeduper,
  type ClientBlock,
  languageOf,
  parseClientMarkdown,
  type SalvagedCandidate,
  salvageCandidate,
} from "../code/index.js";
import { ApiError, errorMessage } from "../errors.js";
import { renderPrompt } from "../inference/prompts/prompt-template.js";
import type { OptimizationConfig } from "./optimization-config.js";
import {
  type CallScope,
  callIdentity,
  type OptimizationEngine,
  type RequestContext,
} from "./optimization-engine.js";
import { NUMERICAL_GUIDANCE, promptLanguageOf, promptTemplate } from "./prompts/index.js";
import { type PromptEndpoint, type PromptValues, promptText } from "./prompts/prompt-variables.js";
import { sampleAngle, sampleTemperature, spreadOverModels } from "./sampling.js";
import type {
  AdaptiveOptimizeRequest,
  Candidate,
  CodeRepairRequest,
  OptimizeRequest,
  RefinementItem,
  TestDiff,
} from "./schemas.js";

/** The code a call works on, as the client sent it. */
interface Bundle {
  blocks: ClientBlock[];
  /** The fence tag the answer must use. */
  tag: string;
  /** The protocol's language name (python, javascript, typescript, java, go). */
  language: string;
}

/** One model call of a call: any endpoint's prompt with its own values. */
type Sample = {
  [E in PromptEndpoint]: {
    endpoint: E;
    model: string;
    label: string;
    values: PromptValues<E>;
    temperature: number;
  };
}[PromptEndpoint];

/** Samples produced for code_repair and adaptive_optimize, which answer one candidate. */
const SINGLE_CANDIDATE_SAMPLES = 2;
/** Refinement samples per item: the client keeps at most 2–4 refinements per batch. */
const REFINEMENT_SAMPLES = 2;

function bundleOf(markdown: string, language: string | null | undefined): Bundle {
  const blocks = parseClientMarkdown(markdown);
  if (blocks.length === 0) {
    throw new ApiError(
      "INVALID_REQUEST",
      "the code holds no markdown code block (expected ```<language>:<path> … ```)",
    );
  }
  const tag = blocks[0]?.tag ?? language ?? "python";
  const named = language ?? languageOf(tag) ?? tag;
  return { blocks, tag, language: named.toLowerCase() };
}

function filePaths(bundle: Bundle): string {
  return bundle.blocks.map((b) => b.path ?? "(no path: the target file)").join("\n");
}

function renderTestDiffs(diffs: readonly TestDiff[]): string {
  return diffs
    .map((diff, index) => {
      const lines = [`### Difference ${index + 1} (${promptText(diff.scope, "unknown scope")})`];
      if (diff.test_src_code) lines.push("Test:", diff.test_src_code);
      lines.push(`Original passed: ${promptText(String(diff.original_pass ?? "unknown"))}`);
      lines.push(`Candidate passed: ${promptText(String(diff.candidate_pass ?? "unknown"))}`);
      if (diff.original_value != null) lines.push(`Original value: ${diff.original_value}`);
      if (diff.candidate_value != null) lines.push(`Candidate value: ${diff.candidate_value}`);
      if (diff.candidate_pytest_error) lines.push(`Candidate error:\n${diff.candidate_pytest_error}`);
      if (diff.original_pytest_error) lines.push(`Original error:\n${diff.original_pytest_error}`);
      return lines.join("\n");
    })
    .join("\n\n");
}

export class CandidateService {
  constructor(
    private readonly engine: OptimizationEngine,
    private readonly config: OptimizationConfig,
  ) {}

  /** optimize, optimize-line-profiler and the legacy rewrite_jit: `n_candidates` fresh candidates. */
  optimize(
    body: OptimizeRequest,
    context: RequestContext,
    endpoint: "optimize" | "optimize-line-profiler" | "rewrite_jit",
  ): Promise<{ optimizations: Candidate[] }> {
    return this.engine.run(callIdentity(endpoint, body.trace_id, body, context), async (scope) => {
      const bundle = bundleOf(body.source_code, body.language);
      const n = Math.min(body.n_candidates ?? 5, this.config.max_candidates);
      const promptLanguage = promptLanguageOf(bundle.language);
      const numerical = body.is_numerical_code === true || endpoint === "rewrite_jit";
      const common = {
        language: bundle.language,
        language_version: promptText(body.language_version ?? body.python_version, "unknown"),
        fence_tag: bundle.tag,
        file_paths: filePaths(bundle),
        source_code: body.source_code,
        dependency_code: promptText(body.dependency_code),
        numerical_section: numerical ? NUMERICAL_GUIDANCE[promptLanguage] : "",
      };
      const models = spreadOverModels(n, scope.models);
      const lineProfile = promptText(body.line_profiler_results);
      const samples = models.map((model, index) => {
        const shared = {
          model,
          label: `candidate ${index + 1}`,
          temperature: sampleTemperature(index, this.config.temperature),
        };
        if (endpoint === "optimize-line-profiler" && lineProfile !== "") {
          const values: PromptValues<"optimize_line_profiler"> = {
            ...common,
            line_profiler_results: lineProfile,
            variation: sampleAngle(index),
          };
          return { ...shared, endpoint: "optimize_line_profiler" as const, values };
        }
        const values: PromptValues<"optimize"> = {
          ...common,
          async_note:
            body.is_async === true
              ? "The function is async: keep it async and keep its awaits' semantics."
              : "",
          variation: sampleAngle(index),
        };
        return { ...shared, endpoint: "optimize" as const, values };
      });
      const candidates = await this.produce(scope, bundle, samples, { parentId: null });
      return { optimizations: candidates };
    });
  }

  /** refinement (and the seed's /ai/refine): better versions of candidates that passed. */
  refine(items: readonly RefinementItem[], context: RequestContext): Promise<{ refinements: Candidate[] }> {
    const first = items[0] as RefinementItem;
    return this.engine.run(callIdentity("refinement", first.trace_id, items, context), async (scope) => {
      const perItem = await Promise.all(
        items.map(async (item, itemIndex) => {
          const bundle = bundleOf(item.original_source_code, item.language);
          const values: PromptValues<"refinement"> = {
            language: bundle.language,
            language_version: promptText(item.language_version ?? item.python_version, "unknown"),
            fence_tag: bundle.tag,
            file_paths: filePaths(bundle),
            original_source_code: item.original_source_code,
            dependency_code: promptText(item.read_only_dependency_code),
            original_line_profiler_results: promptText(item.original_line_profiler_results),
            original_code_runtime: promptText(item.original_code_runtime, "unknown"),
            optimized_source_code: item.optimized_source_code,
            optimized_explanation: promptText(item.optimized_explanation),
            optimized_line_profiler_results: promptText(item.optimized_line_profiler_results),
            optimized_code_runtime: promptText(item.optimized_code_runtime, "unknown"),
            speedup: promptText(item.speedup, "unknown"),
            function_references: promptText(item.function_references),
          };
          const samples = this.samples(scope, REFINEMENT_SAMPLES, `item ${itemIndex + 1} refinement`, {
            endpoint: "refinement",
            values,
          });
          return this.produce(scope, bundle, samples, {
            parentId: item.optimization_id,
            alsoUnchangedFrom: [item.optimized_source_code],
          });
        }),
      );
      return { refinements: perItem.flat() };
    });
  }

  /** code_repair: one candidate that fixes the behaviour differences of a failing one. */
  repair(body: CodeRepairRequest, context: RequestContext): Promise<Candidate> {
    return this.engine.run(callIdentity("code_repair", body.trace_id, body, context), async (scope) => {
      const bundle = bundleOf(body.original_source_code, body.language);
      const values: PromptValues<"code_repair"> = {
        language: bundle.language,
        fence_tag: bundle.tag,
        file_paths: filePaths(bundle),
        original_source_code: body.original_source_code,
        modified_source_code: body.modified_source_code,
        test_diffs: renderTestDiffs(body.test_diffs ?? []),
      };
      const samples = this.samples(scope, SINGLE_CANDIDATE_SAMPLES, "repair", {
        endpoint: "code_repair",
        values,
      });
      const candidates = await this.produce(scope, bundle, samples, {
        parentId: body.optimization_id,
        alsoUnchangedFrom: [body.modified_source_code],
      });
      return this.single(candidates, scope, "code_repair");
    });
  }

  /** adaptive_optimize: one candidate that learns from the chain of earlier candidates. */
  adaptive(body: AdaptiveOptimizeRequest, context: RequestContext): Promise<Candidate> {
    return this.engine.run(callIdentity("adaptive_optimize", body.trace_id, body, context), async (scope) => {
      // No language field (§3.5): the fence tags say it.
      const bundle = bundleOf(body.original_source_code, body.language);
      const chain = body.candidates
        .map((c, index) =>
          [
            `### Candidate ${index + 1} (${promptText(c.source, "unknown source")}): ${promptText(c.speedup, "no measurement")}`,
            promptText(c.explanation),
            c.source_code,
          ].join("\n"),
        )
        .join("\n\n");
      const values: PromptValues<"adaptive_optimize"> = {
        language: bundle.language,
        fence_tag: bundle.tag,
        file_paths: filePaths(bundle),
        original_source_code: body.original_source_code,
        candidates: chain,
      };
      const samples = this.samples(scope, SINGLE_CANDIDATE_SAMPLES, "adaptive", {
        endpoint: "adaptive_optimize",
        values,
      });
      const last = body.candidates[body.candidates.length - 1];
      const candidates = await this.produce(scope, bundle, samples, {
        parentId: last?.optimization_id ?? null,
        alsoUnchangedFrom: body.candidates.map((c) => c.source_code),
      });
      return this.single(candidates, scope, "adaptive_optimize");
    });
  }

  /** `count` samples of one prompt spread over the variant's models, labelled `<label> <n>`. */
  private samples(
    scope: CallScope,
    count: number,
    label: string,
    prompt: Pick<Sample, "endpoint" | "values">,
  ): Sample[] {
    return spreadOverModels(count, scope.models).map(
      (model, index) =>
        ({
          ...prompt,
          model,
          label: `${label} ${index + 1}`,
          temperature: sampleTemperature(index, this.config.temperature),
        }) as Sample,
    );
  }

  /**
   * Asks every sample concurrently and keeps the valid, distinct candidates in sample order.
   * When every sample failed to reach its model, the call fails (a non-200 the client logs);
   * answers that were all unusable are an empty list, which the client handles.
   */
  private async produce(
    scope: CallScope,
    bundle: Bundle,
    samples: readonly Sample[],
    options: { parentId: string | null; alsoUnchangedFrom?: readonly string[] },
  ): Promise<Candidate[]> {
    if (samples.length === 0) return [];
    const language = promptLanguageOf(bundle.language);
    const answers = await Promise.allSettled(
      samples.map((sample) =>
        scope.caller.ask({
          model: sample.model,
          label: sample.label,
          prompt: renderPrompt(promptTemplate(sample.endpoint, language, scope.promptVersion), sample.values),
          temperature: sample.temperature,
        }),
      ),
    );
    const failures = answers.filter((a): a is PromiseRejectedResult => a.status === "rejected");
    if (failures.length === answers.length) throw failures[0]?.reason;

    const context = { original: bundle.blocks, tag: bundle.tag };
    const deduper = new CandidateDeduper(bundle.blocks, bundle.tag);
    for (const earlier of options.alsoUnchangedFrom ?? []) {
      // Equal to the candidate being refined or repaired is as useless as equal to the original.
      const salvaged = await salvageCandidate(earlier, context);
      if (salvaged.ok) await deduper.admit(salvaged);
    }
    const kept: Candidate[] = [];
    for (const [index, answer] of answers.entries()) {
      const sample = samples[index] as Sample;
      if (answer.status === "rejected") {
        scope.recorder.drop({
          model: sample.model,
          label: sample.label,
          reason: "model_error",
          detail: errorMessage(answer.reason),
        });
        continue;
      }
      const salvaged = await salvageCandidate(answer.value.text, context);
      const reason = salvaged.ok ? await deduper.admit(salvaged) : salvaged.reason;
      if (!salvaged.ok || reason !== undefined) {
        scope.recorder.drop({
          model: answer.value.model,
          label: sample.label,
          reason: reason ?? "invalid",
          detail: salvaged.ok ? `${reason ?? "invalid"} candidate` : salvaged.detail,
        });
        continue;
      }
      kept.push(this.candidate(scope, salvaged, answer.value.model, options.parentId));
    }
    return kept;
  }

  private candidate(scope: CallScope, salvaged: SalvagedCandidate, model: string, parentId: string | null) {
    const candidate: Candidate = {
      source_code: salvaged.sourceCode,
      explanation: salvaged.explanation,
      // Fresh for every candidate, never one of the request's (§9.2).
      optimization_id: randomUUID(),
      parent_id: parentId,
      model,
    };
    scope.recorder.candidate(candidate);
    return candidate;
  }

  private single(candidates: readonly Candidate[], scope: CallScope, endpoint: string): Candidate {
    const first = candidates[0];
    if (first !== undefined) return first;
    const reasons = [...new Set(scope.recorder.record.drops.map((d) => d.reason))].join(", ");
    throw new ApiError(
      "UPSTREAM_ERROR",
      `${endpoint}: the model produced no valid candidate (${reasons || "no answer"}); see the trace for details`,
    );
  }
}
