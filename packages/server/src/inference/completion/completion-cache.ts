import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../../observability/logger.js";
import { COMPLETION_PROMPT_VERSION } from "./completion-request.js";
import type { CompletionRequest, CompletionResponse } from "./completion-schemas.js";

export interface CompletionCacheOptions {
  registry: Registry;
  logger: Logger;
  /** Shared by every replica when set; the in-process LRU otherwise. */
  redis?: Redis;
  /** Namespace of the Redis keys (the server's `redisKeyPrefix` + `:cache:completion:`). */
  keyPrefix?: string;
  /** In-process bounds: entries, and bytes of stored JSON (UTF-16, 2 bytes a character). */
  maxEntries?: number;
  maxBytes?: number;
  ttlSeconds?: number;
  /** A Redis that takes longer than this to answer is a miss (it may be partitioned). */
  redisTimeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const METRIC = "aiservice_completion_cache_lookups_total";

/**
 * Exact-match cache of completion responses (spec/ai-api.md `options.cache`): an LRU bounded in
 * entries and bytes in this process, or Redis shared by every replica when configured (with a
 * TTL). A Redis failure is a miss, never an error for the request.
 */
export class CompletionCache {
  private readonly memory: LRUCache<string, string>;
  private readonly lookups: Counter<"result">;
  private readonly redis: Redis | undefined;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly logger: Logger;
  private readonly redisTimeoutMs: number;

  constructor(options: CompletionCacheOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? "aiservice:cache:completion:";
    this.ttlSeconds = options.ttlSeconds ?? 3600;
    this.logger = options.logger;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 500;
    this.memory = new LRUCache<string, string>({
      max: options.maxEntries ?? 2_000,
      maxSize: options.maxBytes ?? 32 * 1024 * 1024,
      sizeCalculation: (value) => Math.max(1, value.length * 2),
      ttl: this.ttlSeconds * 1000,
    });
    // One counter per registry, even if a second cache is built on it (tests, benchmarks).
    const existing = options.registry.getSingleMetric(METRIC);
    this.lookups =
      existing instanceof Counter
        ? (existing as Counter<"result">)
        : new Counter({
            name: METRIC,
            help: "Completion cache lookups by result (hit or miss).",
            labelNames: ["result"],
            registers: [options.registry],
          });
  }

  /**
   * The normalized request: everything that changes the answer (model, prompt version, the code
   * on each side of the cursor, language, file path, project context, sampling), nothing else.
   */
  static keyOf(body: CompletionRequest): string {
    const { context, parameters } = body;
    const normalized = JSON.stringify([
      COMPLETION_PROMPT_VERSION,
      body.model_id,
      context.language.trim().toLowerCase(),
      context.code.slice(0, context.cursor_position),
      context.code.slice(context.cursor_position),
      context.file_path ?? null,
      context.project_context?.framework ?? null,
      context.project_context?.dependencies ?? null,
      parameters?.max_tokens ?? null,
      parameters?.temperature ?? null,
      parameters?.top_p ?? null,
      parameters?.stop_sequences ?? null,
      parameters?.frequency_penalty ?? null,
      parameters?.presence_penalty ?? null,
      parameters?.n ?? null,
    ]);
    return createHash("sha256").update(normalized).digest("hex");
  }

  /** Entries and bytes held in this process (the Redis mode holds nothing here). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.memory.size, bytes: this.memory.calculatedSize };
  }

  async get(key: string): Promise<CompletionResponse | undefined> {
    let raw: string | null | undefined;
    try {
      raw =
        this.redis === undefined
          ? this.memory.get(key)
          : await withTimeout(this.redis.get(this.keyPrefix + key), this.redisTimeoutMs);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "completion cache read failed; treating as a miss");
    }
    this.lookups.inc({ result: raw == null ? "miss" : "hit" });
    return raw == null ? undefined : (JSON.parse(raw) as CompletionResponse);
  }

  async set(key: string, value: CompletionResponse): Promise<void> {
    const raw = JSON.stringify(value);
    if (this.redis === undefined) {
      this.memory.set(key, raw);
      return;
    }
    // Bounded like reads: a silent Redis must not hold the answer back.
    await withTimeout(
      this.redis.set(this.keyPrefix + key, raw, "EX", this.ttlSeconds),
      this.redisTimeoutMs,
    ).catch((err: Error) => this.logger.warn({ err: err.message }, "completion cache write failed"));
  }
}
