/**
 * One place where the optimization API talks to models: every call is bounded by the
 * configured timeout (well under the client's 300 s read timeout), cancelled when the client
 * goes away, recorded in the trace — and, for `rerun_trace_id`, answered from the stored trace
 * instead of a model.
 */
import { setMaxListeners } from "node:events";
import type { ModelRunner } from "../engine/model-runner.js";
import { ApiError, errorMessage } from "../errors.js";
import type { RenderedPrompt } from "../inference/prompts/prompt-template.js";
import type { ModelCallTrace, TraceRecorder } from "./trace-recorder.js";

export interface PromptCall {
  model: string;
  /** Names the sample inside the call ("candidate 2", "tests"): replay matches on it. */
  label: string;
  prompt: RenderedPrompt;
  temperature?: number;
  maxTokens?: number;
}

export interface ModelAnswer {
  text: string;
  /** The model that wrote it (for a replay: the one recorded in the stored trace). */
  model: string;
}

export interface CallerSettings {
  timeoutMs: number;
  temperature: number;
  maxTokens: number;
}

/** Stored outputs of an earlier call, handed out by label (then in order) without a model. */
export class ReplayOutputs {
  private readonly remaining: ModelCallTrace[];

  constructor(
    readonly traceId: string,
    calls: readonly ModelCallTrace[],
  ) {
    this.remaining = [...calls];
  }

  take(label: string): ModelCallTrace | undefined {
    let index = this.remaining.findIndex((call) => call.label === label);
    if (index < 0) index = 0;
    return this.remaining.splice(index, 1)[0];
  }
}

export class ModelCaller {
  private readonly timeout: AbortSignal;
  private readonly signal: AbortSignal;

  constructor(
    private readonly runner: ModelRunner,
    private readonly settings: CallerSettings,
    private readonly recorder: TraceRecorder,
    clientSignal: AbortSignal,
    private readonly replay?: ReplayOutputs,
  ) {
    // One combined signal per HTTP call (not per sample), so the client's signal gets one
    // listener however many candidates run; the samples' listeners go on this one.
    this.timeout = AbortSignal.timeout(settings.timeoutMs);
    this.signal = AbortSignal.any([clientSignal, this.timeout]);
    setMaxListeners(256, this.signal);
  }

  get replaying(): boolean {
    return this.replay !== undefined;
  }

  /** The model's answer text; a failure is recorded and rethrown as a typed error. */
  async ask(call: PromptCall): Promise<ModelAnswer> {
    const prompt = {
      template: call.prompt.templateId,
      version: call.prompt.templateVersion,
      system: call.prompt.system,
      user: call.prompt.user,
    };
    if (this.replay !== undefined) return this.replayed(call, prompt);
    const started = performance.now();
    const trace: ModelCallTrace = {
      model: call.model,
      label: call.label,
      prompt,
      output: null,
      error: null,
      duration_ms: 0,
      replayed: false,
    };
    try {
      const result = await this.runner.generate(call.model, {
        input: {
          kind: "chat",
          messages: [
            { role: "system", content: call.prompt.system },
            { role: "user", content: call.prompt.user },
          ],
        },
        sampling: {
          temperature: call.temperature ?? this.settings.temperature,
          maxTokens: call.maxTokens ?? this.settings.maxTokens,
        },
        signal: this.signal,
      });
      if (this.timeout.aborted) throw this.timedOut();
      if (result.finishReason === "cancelled") throw this.cancelled();
      trace.output = result.text;
      trace.prompt_tokens = result.usage.promptTokens;
      trace.completion_tokens = result.usage.completionTokens;
      return { text: result.text, model: call.model };
    } catch (error) {
      const failure = this.timeout.aborted ? this.timedOut() : error;
      trace.error = errorMessage(failure);
      throw failure;
    } finally {
      trace.duration_ms = Math.round(performance.now() - started);
      this.recorder.modelCall(trace);
    }
  }

  private replayed(call: PromptCall, prompt: ModelCallTrace["prompt"]): ModelAnswer {
    const replay = this.replay as ReplayOutputs;
    const stored = replay.take(call.label);
    const trace: ModelCallTrace = {
      model: stored?.model ?? call.model,
      label: call.label,
      prompt,
      output: stored?.output ?? null,
      error: stored?.error ?? null,
      duration_ms: 0,
      replayed: true,
    };
    this.recorder.modelCall(trace);
    if (stored === undefined) {
      throw new ApiError("NOT_FOUND", `trace ${replay.traceId} has no stored model output for ${call.label}`);
    }
    if (stored.output === null) {
      throw new ApiError(
        "UPSTREAM_ERROR",
        `replayed failure of trace ${replay.traceId}: ${stored.error ?? "no output"}`,
      );
    }
    return { text: stored.output, model: stored.model };
  }

  private timedOut(): ApiError {
    return new ApiError(
      "UPSTREAM_TIMEOUT",
      `the model did not answer within ${Math.round(this.settings.timeoutMs / 1000)} s (optimization.call_timeout_seconds)`,
    );
  }

  private cancelled(): ApiError {
    return new ApiError("SERVICE_UNAVAILABLE", "the client closed the connection; generation was cancelled");
  }
}
