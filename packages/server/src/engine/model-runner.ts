import type { Logger } from "../observability/logger.js";
import type { ModelRepository } from "../store/model-repository.js";
import type { ModelEntry } from "./model-config.js";
import type { ModelRegistry } from "./model-registry.js";
import type {
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  TokenUsage,
} from "./providers/provider.js";

/** How a call made on a checked-out model ended, for its request record. */
export interface HeldCallOutcome {
  success: boolean;
  usage?: TokenUsage;
}

/** A model checked out by `ModelRunner.checkOut`; exactly one of `finish` and `release` must be called. */
export interface HeldModel {
  model: LoadedModel;
  entry: ModelEntry;
  /** Gives the model back and records the call; later calls do nothing. */
  finish(outcome: HeldCallOutcome): void;
  /** Gives the model back unrecorded: nothing was run on it. */
  release(): void;
}

export interface RunOptions {
  /** Marks the record as served from cache (no model call). */
  cacheHit?: boolean;
}

/**
 * The one way endpoints call a model: check it out of the registry (auto-loading it), run the
 * request, give it back, and record the request for per-model metrics — for every endpoint
 * alike (inference, OpenAI-compatible, optimization).
 */
export class ModelRunner {
  /** The flush whose failure is already being watched (see `record`). */
  private watchedWrite: Promise<void> | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly repository: ModelRepository,
    private readonly logger: Logger,
  ) {}

  /** The entry and capabilities, loading the model first when needed. */
  async describe(modelId: string): Promise<{ entry: ModelEntry; model: LoadedModel }> {
    const lease = await this.registry.acquire(modelId);
    lease.release();
    return { entry: lease.entry, model: lease.model };
  }

  async generate(modelId: string, request: GenerationRequest): Promise<GenerationResult> {
    const lease = await this.registry.acquire(modelId);
    const startedAt = new Date();
    const started = performance.now();
    try {
      const result = await lease.model.generate(request);
      this.record(modelId, startedAt, started, { success: result.finishReason !== "error", result });
      return result;
    } catch (err) {
      this.record(modelId, startedAt, started, { success: false });
      throw err;
    } finally {
      lease.release();
    }
  }

  /**
   * Streams chunks; the lease is held until the consumer finishes or stops iterating (a client
   * disconnect), and the request is recorded either way.
   */
  async *stream(modelId: string, request: GenerationRequest): AsyncGenerator<GenerationChunk> {
    const lease = await this.registry.acquire(modelId);
    const startedAt = new Date();
    const started = performance.now();
    let usage: GenerationChunk["usage"];
    let failed = false;
    let finishReason: GenerationChunk["finishReason"];
    try {
      for await (const chunk of lease.model.stream(request)) {
        if (chunk.usage !== undefined) usage = chunk.usage;
        if (chunk.finishReason !== undefined) finishReason = chunk.finishReason;
        yield chunk;
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      lease.release();
      this.record(modelId, startedAt, started, {
        success: !failed && finishReason !== "error",
        ...(usage === undefined ? {} : { result: { usage } }),
      });
    }
  }

  /**
   * Checks a model out for a call the caller drives itself and whose answer outlives this method
   * (a response body piped through as bytes, see `LoadedModel.passthrough`): the lease is held
   * until `finish` (which records the request like `generate` does) or `release`.
   */
  async checkOut(modelId: string): Promise<HeldModel> {
    const lease = await this.registry.acquire(modelId);
    const startedAt = new Date();
    const started = performance.now();
    let done = false;
    return {
      model: lease.model,
      entry: lease.entry,
      finish: (outcome) => {
        if (done) return;
        done = true;
        lease.release();
        this.record(modelId, startedAt, started, {
          success: outcome.success,
          ...(outcome.usage === undefined ? {} : { result: { usage: outcome.usage } }),
        });
      },
      release: () => {
        if (done) return;
        done = true;
        lease.release();
      },
    };
  }

  /** A cache hit still counts as a request of that model (for hit rates and counts). */
  recordCacheHit(modelId: string): void {
    this.record(modelId, new Date(), performance.now(), { success: true, cacheHit: true });
  }

  private record(
    modelId: string,
    startedAt: Date,
    started: number,
    outcome: {
      success: boolean;
      result?: Pick<GenerationResult, "usage">;
      cacheHit?: boolean;
    },
  ): void {
    const written = this.repository.recordRequest({
      modelId,
      startedAt,
      durationMs: performance.now() - started,
      success: outcome.success,
      promptTokens: outcome.result?.usage.promptTokens ?? 0,
      completionTokens: outcome.result?.usage.completionTokens ?? 0,
      cacheHit: outcome.cacheHit ?? false,
    });
    // Every request of one flush shares its promise: a failed flush is one warning, not one per request.
    if (written === this.watchedWrite) return;
    this.watchedWrite = written;
    written.catch((err: unknown) => this.logger.warn({ err }, "could not record model requests"));
  }
}
