/**
 * What every /ai/* call shares: the variant its experiment group selects (models, prompt
 * version), the trace it is recorded under, the bounded model caller — or the stored outputs it
 * replays — and recording the outcome, success or failure, before the response leaves.
 */
import { LRUCache } from "lru-cache";
import type { ModelRegistry } from "../engine/model-registry.js";
import type { ModelRunner } from "../engine/model-runner.js";
import { ApiError, errorMessage } from "../errors.js";
import type { RenderedPrompt } from "../inference/prompts/prompt-template.js";
import type { Logger } from "../observability/logger.js";
import type { OptimizationRepository } from "../store/optimization-repository.js";
import { ModelCaller, ReplayOutputs } from "./model-caller.js";
import type { OptimizationConfig, WeightedModel } from "./optimization-config.js";
import { type CallRecord, TraceRecorder } from "./trace-recorder.js";

export interface CallIdentity {
  /** Canonical endpoint name. */
  endpoint: string;
  traceId: string;
  principalId: string;
  signal: AbortSignal;
  /** The validated request, stored with the trace. */
  request: unknown;
  rerunTraceId?: string | null | undefined;
  experiment?: { id?: string | null | undefined; group?: string | null | undefined } | null | undefined;
}

export interface CallScope {
  recorder: TraceRecorder;
  caller: ModelCaller;
  /** Optimizer models of the call's variant, with weights. */
  models: WeightedModel[];
  /** Model for tests, explanations, reviews and workflows. */
  assistantModel: string;
  judgeModel: string | undefined;
  promptVersion: number;
  variant: string | null;
}

export interface EngineDependencies {
  config: OptimizationConfig;
  registry: ModelRegistry;
  runner: ModelRunner;
  repository: OptimizationRepository;
  logger: Logger;
}

/** What an endpoint handler knows of its HTTP call. */
export interface RequestContext {
  principalId: string;
  signal: AbortSignal;
}

/**
 * The identity of a call: `rerun_trace_id` and `experiment_metadata` are read from the request
 * (its first item for the array body of refinement) whichever endpoint it is.
 */
export function callIdentity(
  endpoint: string,
  traceId: string,
  request: unknown,
  context: RequestContext,
): CallIdentity {
  const first: unknown = Array.isArray(request) ? request[0] : request;
  const fields = (first ?? {}) as {
    rerun_trace_id?: string | null;
    experiment_metadata?: { id?: string | null; group?: string | null } | null;
  };
  return {
    endpoint,
    traceId,
    principalId: context.principalId,
    signal: context.signal,
    request,
    rerunTraceId: fields.rerun_trace_id,
    experiment: fields.experiment_metadata,
  };
}

/** An answer checked by `askUntilValid`: the value, or why it is unusable. */
export type Judged<T> = { value: T } | { reason: string; problem: string };

/**
 * Asks the model up to twice — the retry cooler — until `judge` accepts an answer; unusable
 * answers are traced as drops. Throws UPSTREAM_ERROR naming the last problem otherwise.
 */
export async function askUntilValid<T>(
  scope: CallScope,
  call: { endpoint: string; model: string; label: string; prompt: RenderedPrompt; maxTokens?: number },
  temperatures: readonly [number, number],
  judge: (text: string) => Judged<T> | Promise<Judged<T>>,
): Promise<T> {
  let problem = "no answer";
  for (const [index, temperature] of temperatures.entries()) {
    const label = `${call.label} ${index + 1}`;
    const answer = await scope.caller.ask({ ...call, label, temperature });
    const judged = await judge(answer.text);
    if ("value" in judged) return judged.value;
    problem = judged.problem;
    scope.recorder.drop({ model: answer.model, label, reason: judged.reason, detail: problem });
  }
  throw new ApiError("UPSTREAM_ERROR", `${call.endpoint}: no usable answer from the model (${problem})`);
}

export class OptimizationEngine {
  /** Next stored call to replay per (trace, endpoint, rerun trace); bounded like a cache. */
  private readonly replayPositions = new LRUCache<string, number>({ max: 10_000 });

  constructor(private readonly deps: EngineDependencies) {}

  get repository(): OptimizationRepository {
    return this.deps.repository;
  }

  /** Runs `work` inside a recorded call scope; the trace is stored before the result returns. */
  async run<T>(identity: CallIdentity, work: (scope: CallScope) => Promise<T>): Promise<T> {
    const scope = await this.begin(identity);
    let response: T;
    try {
      response = await work(scope);
    } catch (error) {
      await scope.recorder
        .finish({ error: errorMessage(error) })
        .catch((storeError: unknown) =>
          this.deps.logger.error({ err: storeError, trace_id: identity.traceId }, "cannot store trace"),
        );
      throw error;
    }
    await scope.recorder.finish({ response });
    return response;
  }

  private async begin(identity: CallIdentity): Promise<CallScope> {
    const { config } = this.deps;
    const experiment = await this.experimentOf(identity);
    const variantConfig = experiment.variant === null ? undefined : config.variants[experiment.variant];
    const models = variantConfig?.models ?? (config.models.length > 0 ? config.models : this.defaultModels());
    const promptVersion = variantConfig?.prompt_version ?? config.prompt_version;
    const replay = await this.replayOf(identity);
    const recorder = new TraceRecorder(
      this.deps.repository,
      {
        traceId: identity.traceId,
        endpoint: identity.endpoint,
        principalId: identity.principalId,
        experimentId: experiment.id,
        variant: experiment.variant,
      },
      identity.request,
      promptVersion,
      replay?.traceId ?? null,
    );
    const caller = new ModelCaller(
      this.deps.runner,
      {
        timeoutMs: config.call_timeout_seconds * 1000,
        temperature: config.temperature,
        maxTokens: config.max_tokens,
      },
      recorder,
      identity.signal,
      replay,
    );
    const first = models[0]?.model as string;
    return {
      recorder,
      caller,
      models,
      assistantModel: config.assistant_model ?? first,
      judgeModel: config.judge_model,
      promptVersion,
      variant: experiment.variant,
    };
  }

  private defaultModels(): WeightedModel[] {
    const first = this.deps.registry.ids()[0];
    if (first === undefined) {
      throw new ApiError(
        "SERVICE_UNAVAILABLE",
        "no model is configured for the optimization API: add one under `models:` (and optionally `optimization.models:`)",
      );
    }
    return [{ model: first, weight: 1 }];
  }

  /** The request's experiment, else the one an earlier call of the same trace declared. */
  private async experimentOf(identity: CallIdentity): Promise<{ id: string | null; variant: string | null }> {
    const group = identity.experiment?.group ?? null;
    if (group !== null) return { id: identity.experiment?.id ?? "default", variant: group };
    const stored = await this.deps.repository.experimentOfTrace(identity.traceId);
    return stored === undefined
      ? { id: null, variant: null }
      : { id: stored.experimentId, variant: stored.variant };
  }

  /**
   * `rerun_trace_id`: the k-th call to an endpoint under the new trace replays the k-th stored
   * call to the same endpoint of the old one, so a whole run can be replayed step by step.
   */
  private async replayOf(identity: CallIdentity): Promise<ReplayOutputs | undefined> {
    const rerun = identity.rerunTraceId;
    if (rerun === undefined || rerun === null || rerun === "") return undefined;
    const stored = (await this.deps.repository.callsOfTrace(rerun)).filter(
      (call) => call.endpoint === identity.endpoint,
    );
    if (stored.length === 0) {
      throw new ApiError("NOT_FOUND", `no stored ${identity.endpoint} outputs for trace ${rerun} to replay`, {
        details: { rerun_trace_id: rerun },
      });
    }
    // The client sends e.g. its refinement calls concurrently: none is stored when the next
    // one starts, so the position is handed out here (the store only seeds it, after a restart).
    const key = `${identity.traceId}\u0000${identity.endpoint}\u0000${rerun}`;
    let position = this.replayPositions.get(key);
    if (position === undefined) {
      position = (await this.deps.repository.callsOfTrace(identity.traceId)).filter(
        (call) => call.endpoint === identity.endpoint && (call.record as CallRecord).replayed_from === rerun,
      ).length;
      position = this.replayPositions.get(key) ?? position;
    }
    this.replayPositions.set(key, position + 1);
    const source = stored[position % stored.length];
    return new ReplayOutputs(rerun, (source?.record as CallRecord).model_calls);
  }
}
