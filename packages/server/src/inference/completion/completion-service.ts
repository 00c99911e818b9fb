import type { TokenProbability } from "../../engine/providers/provider.js";
import { ApiError } from "../../errors.js";
import type { AppServices } from "../../http/services.js";
import { confidenceFromTokens } from "../confidence.js";
import { CompletionCache } from "./completion-cache.js";
import { completionRequest, completionText, splitAtCursor } from "./completion-request.js";
import type { CompletionRequest, CompletionResponse } from "./completion-schemas.js";

export function completionResponse(
  body: CompletionRequest,
  text: string,
  tokens: TokenProbability[] | undefined,
  tokensUsed: number,
  started: number,
  suggestions: CompletionResponse["suggestions"],
): CompletionResponse {
  return {
    completion: {
      text,
      confidence: confidenceFromTokens(tokens),
      metadata: {
        model_used: body.model_id,
        tokens_used: tokensUsed,
        processing_time_ms: Math.round(performance.now() - started),
        cache_hit: false,
      },
    },
    suggestions,
  };
}

/** A non-streaming completion, shared by the synchronous route and the async worker. */
export class CompletionService {
  private readonly cache: CompletionCache;

  constructor(private readonly services: AppServices) {
    this.cache = new CompletionCache(
      services.metrics.registry,
      services.logger,
      services.redis,
      `${services.redisKeyPrefix}:cache:completion:`,
    );
  }

  async run(
    body: CompletionRequest,
    signal: AbortSignal,
    started = performance.now(),
  ): Promise<CompletionResponse> {
    splitAtCursor(body);
    // Default: cache only deterministic requests (temperature 0), as the spec says.
    const useCache = body.options?.cache ?? body.parameters?.temperature === 0;
    const cacheKey = useCache ? CompletionCache.keyOf(body) : undefined;
    if (cacheKey !== undefined) {
      const hit = await this.cache.get(cacheKey);
      if (hit !== undefined) {
        this.services.runner.recordCacheHit(body.model_id);
        const metadata = {
          ...hit.completion.metadata,
          processing_time_ms: Math.round(performance.now() - started),
          cache_hit: true,
        };
        return { ...hit, completion: { ...hit.completion, metadata } };
      }
    }
    const { model } = await this.services.runner.describe(body.model_id);
    const fim = model.capabilities.fim;
    const samples = body.parameters?.n ?? 1;
    const results = await Promise.all(
      Array.from({ length: samples }, (_, i) =>
        this.services.runner.generate(body.model_id, {
          ...completionRequest(body, fim, i === 0 ? undefined : i),
          signal,
        }),
      ),
    );
    const [main, ...extra] = results;
    if (main === undefined) throw new ApiError("INTERNAL_ERROR", "no completion was generated");
    const used = results.reduce((sum, r) => sum + r.usage.promptTokens + r.usage.completionTokens, 0);
    const response = completionResponse(
      body,
      completionText(main.text, fim),
      main.tokens,
      used,
      started,
      extra.map((r, i) => ({
        text: completionText(r.text, fim),
        confidence: confidenceFromTokens(r.tokens),
        reasoning: `alternative sample ${i + 2} of ${samples}`,
      })),
    );
    if (cacheKey !== undefined) await this.cache.set(cacheKey, response);
    return response;
  }
}
