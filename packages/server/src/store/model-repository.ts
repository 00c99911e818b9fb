import { randomUUID } from "node:crypto";
import { type Insertable, type Kysely, sql } from "kysely";
import type { Database, ModelRequestsTable } from "./schema.js";

/** Request records written per statement (9 columns each: far below SQLite's variable limit). */
const RECORD_BATCH = 200;
/** How long a request record may wait for its batch. */
const RECORD_FLUSH_MS = 250;

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
  private pendingRecords: Insertable<ModelRequestsTable>[] = [];
  private nextFlush: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();

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

  /**
   * Queues one request record; records are written together, at most `RECORD_FLUSH_MS` later
   * (sooner when many are waiting). One multi-row insert per batch instead of one statement per
   * request: on the gateway path this write was a large share of the per-request CPU. Readers
   * in this process (`performance`) flush first; `flush` is also called when the store closes.
   */
  recordRequest(record: ModelRequestRecord): Promise<void> {
    this.pendingRecords.push({
      id: randomUUID(),
      model_id: record.modelId,
      started_at: record.startedAt.toISOString(),
      duration_ms: Math.round(record.durationMs),
      success: record.success ? 1 : 0,
      prompt_tokens: record.promptTokens ?? 0,
      completion_tokens: record.completionTokens ?? 0,
      cache_hit: record.cacheHit ? 1 : 0,
      error_code: record.errorCode ?? null,
    });
    if (this.pendingRecords.length >= RECORD_BATCH) return this.flush();
    this.nextFlush ??= new Promise<void>((resolve, reject) => {
      setTimeout(() => this.flush().then(resolve, reject), RECORD_FLUSH_MS).unref();
    });
    return this.nextFlush;
  }

  /** Writes every queued request record (in batches, one after another). */
  flush(): Promise<void> {
    this.nextFlush = undefined;
    const rows = this.pendingRecords.splice(0);
    if (rows.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      for (let start = 0; start < rows.length; start += RECORD_BATCH) {
        await this.db
          .insertInto("model_requests")
          .values(rows.slice(start, start + RECORD_BATCH))
          .execute();
      }
    });
    // A failed batch fails its callers, not every later one.
    const written = this.writing;
    this.writing = written.catch(() => undefined);
    return written;
  }

  /** Average duration and success rate per model since `since` (all time when omitted). */
  async performance(since?: Date): Promise<Map<string, ModelPerformance>> {
    await this.flush().catch(() => undefined);
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
