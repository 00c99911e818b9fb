import type { TokenProbability, TokenUsage } from "../../engine/providers/provider.js";
import { ApiError } from "../../errors.js";
import type { AppServices } from "../../http/services.js";
import { confidenceFromTokens } from "../confidence.js";
import type { DeltaFilter } from "./answer-cleanup.js";
import { CompletionCache } from "./completion-cache.js";
import { type CompletionPlan, completionPlan, splitAtCursor } from "./completion-request.js";
import type { CompletionRequest, CompletionResponse } from "./completion-schemas.js";

export interface CompletionRunOptions {
  /** Aborted when the client leaves (or the server stops): generation is cancelled. */
  signal: AbortSignal;
  /** Called with each piece of the main sample's text as it is generated (SSE `delta`). */
  onDelta?: (text: string) => Promise<void>;
}

/** A completion checked and ready to run: bad input and unknown models fail before this exists. */
export interface PreparedCompletion {
  run(options: CompletionRunOptions): Promise<CompletionResponse>;
}

interface Sample {
  text: string;
  tokens: TokenProbability[] | undefined;
  usage: TokenUsage;
  /** False when the runtime reported an error or a cancellation: such an answer is not cached. */
  complete: boolean;
}

/** The client went away (or the server is stopping): 499 as in nginx's logs, never logged as a failure. */
function cancelled(signal: AbortSignal): ApiError {
  return signal.reason instanceof ApiError
    ? signal.reason
    : new ApiError("SERVICE_UNAVAILABLE", "the completion was cancelled before it finished", { status: 499 });
}

function pushThrough(filters: readonly DeltaFilter[], text: string): string {
  let out = text;
  for (const filter of filters) out = filter.push(out);
  return out;
}

function endThrough(filters: readonly DeltaFilter[]): string {
  let out = "";
  for (const filter of filters) out = filter.push(out) + filter.end();
  return out;
}

/**
 * Code completion (spec/ai-api.md "Inference"), shared by the synchronous route, its SSE mode
 * and the async worker: cache lookup, prompt selection (FIM or instruction), concurrent samples
 * for `n` > 1, answer cleanup and confidence from the runtime's token probabilities.
 */
export class CompletionService {
  private readonly cache: CompletionCache;

  constructor(private readonly services: AppServices) {
    this.cache = new CompletionCache({
      registry: services.metrics.registry,
      logger: services.logger,
      ...(services.redis === undefined
        ? {}
        : { redis: services.redis, keyPrefix: `${services.redisKeyPrefix}:cache:completion:` }),
    });
  }

  /** Checks what can be checked without running anything: the cursor and the model id. */
  validate(body: CompletionRequest): void {
    splitAtCursor(body);
    this.services.registry.get(body.model_id);
  }

  /** Validates, looks the request up in the cache and loads the model (auto-load). */
  async prepare(body: CompletionRequest, started = performance.now()): Promise<PreparedCompletion> {
    this.validate(body);
    // Default: cache only deterministic requests (temperature 0), as the spec says.
    const useCache = body.options?.cache ?? body.parameters?.temperature === 0;
    const cacheKey = useCache ? CompletionCache.keyOf(body) : undefined;
    const hit = cacheKey === undefined ? undefined : await this.cache.get(cacheKey);
    if (hit !== undefined) {
      this.services.runner.recordCacheHit(body.model_id);
      return {
        run: async ({ onDelta }) => {
          if (onDelta !== undefined && hit.completion.text !== "") await onDelta(hit.completion.text);
          const metadata = {
            ...hit.completion.metadata,
            processing_time_ms: Math.round(performance.now() - started),
            cache_hit: true,
          };
          return { ...hit, completion: { ...hit.completion, metadata } };
        },
      };
    }
    const { model } = await this.services.runner.describe(body.model_id);
    const plan = completionPlan(body, model.capabilities.fim);
    return {
      run: async (options) => {
        const response = await this.generate(body, plan, options, started);
        if (cacheKey !== undefined && response.complete) await this.cache.set(cacheKey, response.body);
        return response.body;
      },
    };
  }

  async run(body: CompletionRequest, options: CompletionRunOptions): Promise<CompletionResponse> {
    return (await this.prepare(body)).run(options);
  }

  private async generate(
    body: CompletionRequest,
    plan: CompletionPlan,
    options: CompletionRunOptions,
    started: number,
  ): Promise<{ body: CompletionResponse; complete: boolean }> {
    const count = body.parameters?.n ?? 1;
    // One failed sample cancels its siblings; a client that leaves cancels them all.
    const siblings = new AbortController();
    const signal = AbortSignal.any([options.signal, siblings.signal]);
    const samples = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        this.sample(
          body.model_id,
          plan,
          signal,
          i === 0 ? undefined : i,
          i === 0 ? options.onDelta : undefined,
        ).catch((err: unknown) => {
          siblings.abort(err);
          throw err;
        }),
      ),
    );
    const [main, ...extra] = samples;
    if (main === undefined) throw new ApiError("INTERNAL_ERROR", "no completion was generated");
    // An alternative equal to the answer or to an earlier alternative tells the client nothing.
    const seen = new Set([main.text.trim()]);
    const suggestions = extra.flatMap((sample, i) => {
      const key = sample.text.trim();
      if (seen.has(key)) return [];
      seen.add(key);
      return [
        {
          text: sample.text,
          confidence: confidenceFromTokens(sample.tokens),
          reasoning: `alternative sample ${i + 2} of ${count} (seed ${i + 1})`,
        },
      ];
    });
    return {
      complete: samples.every((s) => s.complete),
      body: {
        completion: {
          text: main.text,
          confidence: confidenceFromTokens(main.tokens),
          metadata: {
            model_used: body.model_id,
            tokens_used: samples.reduce((sum, s) => sum + s.usage.promptTokens + s.usage.completionTokens, 0),
            processing_time_ms: Math.round(performance.now() - started),
            cache_hit: false,
          },
        },
        suggestions,
      },
    };
  }

  /**
   * One sample, streamed from the runtime: its text goes through the plan's delta filters (to
   * `onDelta` when given), and a stop sequence or the end of a fenced answer ends it early.
   */
  private async sample(
    modelId: string,
    plan: CompletionPlan,
    signal: AbortSignal,
    seed: number | undefined,
    onDelta: CompletionRunOptions["onDelta"],
  ): Promise<Sample> {
    const ended = new AbortController();
    const filters = plan.deltaFilters();
    let raw = "";
    const tokens: TokenProbability[] = [];
    let usage: TokenUsage | undefined;
    let finish: string | undefined;
    let stoppedHere = false;
    const chunks = this.services.runner.stream(modelId, {
      ...plan.request(seed),
      signal: AbortSignal.any([signal, ended.signal]),
    });
    for await (const chunk of chunks) {
      if (signal.aborted) break;
      raw += chunk.text;
      if (chunk.tokens !== undefined) tokens.push(...chunk.tokens);
      if (chunk.usage !== undefined) usage = chunk.usage;
      if (chunk.finishReason !== undefined) finish = chunk.finishReason;
      const visible = pushThrough(filters, chunk.text);
      if (visible !== "" && onDelta !== undefined) await onDelta(visible);
      if (filters.some((filter) => filter.done)) {
        // Leaving the loop closes the stream (the model is given back); the abort makes sure a
        // runtime that only watches its signal stops too.
        stoppedHere = true;
        ended.abort();
        break;
      }
    }
    if (signal.aborted) throw cancelled(signal);
    const rest = endThrough(filters);
    if (rest !== "" && onDelta !== undefined) await onDelta(rest);
    return {
      text: plan.clean(raw),
      tokens: tokens.length > 0 ? tokens : undefined,
      usage: usage ?? { promptTokens: 0, completionTokens: 0 },
      complete: stoppedHere || (finish !== "cancelled" && finish !== "error"),
    };
  }
}
