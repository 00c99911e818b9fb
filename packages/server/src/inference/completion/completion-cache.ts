import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../../observability/logger.js";
import type { CompletionRequest, CompletionResponse } from "./completion-schemas.js";

const TTL_SECONDS = 3600;

/**
 * Exact-match cache of completion responses (spec/ai-api.md `options.cache`): an LRU bounded in
 * entries and bytes in this process, or Redis shared by every replica when configured. A Redis
 * failure is a miss, never an error for the request.
 */
export class CompletionCache {
  private readonly memory = new LRUCache<string, string>({
    max: 2_000,
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (value) => value.length * 2,
    ttl: TTL_SECONDS * 1000,
  });
  private readonly lookups: Counter<"result">;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    private readonly redis?: Redis,
    private readonly keyPrefix = "aiservice:cache:completion:",
  ) {
    this.lookups = new Counter({
      name: "aiservice_completion_cache_lookups_total",
      help: "Completion cache lookups by result (hit or miss).",
      labelNames: ["result"],
      registers: [registry],
    });
  }

  /** The normalized request: everything that changes the answer, nothing that doesn't. */
  static keyOf(body: CompletionRequest): string {
    const { context, parameters } = body;
    const normalized = JSON.stringify([
      body.model_id,
      context.language.toLowerCase(),
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

  async get(key: string): Promise<CompletionResponse | undefined> {
    let raw: string | null | undefined;
    try {
      raw = this.redis === undefined ? this.memory.get(key) : await this.redis.get(this.keyPrefix + key);
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
    await this.redis
      .set(this.keyPrefix + key, raw, "EX", TTL_SECONDS)
      .catch((err: Error) => this.logger.warn({ err: err.message }, "completion cache write failed"));
  }
}
