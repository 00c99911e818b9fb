import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

export type ModelStatus = "available" | "loading" | "loaded" | "unloading" | "error";

export interface ModelStateRecord {
  id: string;
  status: ModelStatus;
  memoryBytes: number;
  lastUsedAt: string | null;
  lastError: string | null;
  loadCount: number;
  totalLoadMs: number;
}

export interface ModelRequestRecord {
  modelId: string;
  startedAt: Date;
  durationMs: number;
  success: boolean;
  promptTokens?: number;
  completionTokens?: number;
  cacheHit?: boolean;
  errorCode?: string | undefined;
}

export interface ModelPerformance {
  requestCount: number;
  avgDurationMs: number | null;
  successRate: number | null;
}

/** Model state and per-request records; one implementation for both dialects. */
export class ModelRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<ModelStateRecord[]> {
    const rows = await this.db.selectFrom("model_states").selectAll().execute();
    return rows.map((row) => ({
      id: row.id,
      status: row.status as ModelStatus,
      memoryBytes: Number(row.memory_bytes),
      lastUsedAt: row.last_used_at,
      lastError: row.last_error,
      loadCount: Number(row.load_count),
      totalLoadMs: Number(row.total_load_ms),
    }));
  }

  /** Upserts the given fields of one model's state. */
  async save(id: string, fields: Partial<Omit<ModelStateRecord, "id">>): Promise<void> {
    const values = {
      ...(fields.status === undefined ? {} : { status: fields.status }),
      ...(fields.memoryBytes === undefined ? {} : { memory_bytes: fields.memoryBytes }),
      ...(fields.lastUsedAt === undefined ? {} : { last_used_at: fields.lastUsedAt }),
      ...(fields.lastError === undefined ? {} : { last_error: fields.lastError }),
      ...(fields.loadCount === undefined ? {} : { load_count: fields.loadCount }),
      ...(fields.totalLoadMs === undefined ? {} : { total_load_ms: fields.totalLoadMs }),
      updated_at: new Date().toISOString(),
    };
    await this.db
      .insertInto("model_states")
      .values({ id, status: fields.status ?? "available", ...values })
      .onConflict((oc) => oc.column("id").doUpdateSet(values))
      .execute();
  }

  /** After a restart nothing is in memory any more: whatever was loaded is available again. */
  async resetVolatileStates(): Promise<void> {
    await this.db
      .updateTable("model_states")
      .set({ status: "available", memory_bytes: 0, updated_at: new Date().toISOString() })
      .where("status", "in", ["loading", "loaded", "unloading"])
      .execute();
  }

  async recordRequest(record: ModelRequestRecord): Promise<void> {
    await this.db
      .insertInto("model_requests")
      .values({
        id: randomUUID(),
        model_id: record.modelId,
        started_at: record.startedAt.toISOString(),
        duration_ms: Math.round(record.durationMs),
        success: record.success ? 1 : 0,
        prompt_tokens: record.promptTokens ?? 0,
        completion_tokens: record.completionTokens ?? 0,
        cache_hit: record.cacheHit ? 1 : 0,
        error_code: record.errorCode ?? null,
      })
      .execute();
  }

  /** Average duration and success rate per model since `since` (all time when omitted). */
  async performance(since?: Date): Promise<Map<string, ModelPerformance>> {
    let query = this.db
      .selectFrom("model_requests")
      .select([
        "model_id",
        sql<number>`count(*)`.as("n"),
        sql<number | null>`avg(duration_ms)`.as("avg_ms"),
        sql<number>`sum(success)`.as("ok"),
      ])
      .groupBy("model_id");
    if (since !== undefined) query = query.where("started_at", ">=", since.toISOString());
    const rows = await query.execute();
    return new Map(
      rows.map((row) => {
        const n = Number(row.n);
        return [
          row.model_id,
          {
            requestCount: n,
            avgDurationMs: row.avg_ms === null ? null : Math.round(Number(row.avg_ms)),
            successRate: n === 0 ? null : Number(row.ok) / n,
          },
        ];
      }),
    );
  }
}
