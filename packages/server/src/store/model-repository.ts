import { type Insertable, type Kysely, sql } from "kysely";
import {
  DURATION_BOUNDS_MS,
  DURATION_COLUMNS,
  type Database,
  type DurationColumn,
  type ModelRequestRollupsTable,
} from "./schema.js";

/** How long recorded requests may wait in memory before they are added to the store. */
const RECORD_FLUSH_MS = 250;
/** Rollup rows per statement (23 columns each: far below either dialect's parameter limit). */
const ROLLUP_BATCH = 100;
const MINUTE_MS = 60_000;

type Rollup = Insertable<ModelRequestRollupsTable>;
type Counter = Exclude<keyof Rollup, "model_id" | "bucket_start">;
const COUNTERS: readonly Counter[] = [
  "request_count",
  "success_count",
  "cache_hit_count",
  "duration_ms_sum",
  "prompt_tokens_sum",
  "completion_tokens_sum",
  ...DURATION_COLUMNS,
];
/** On a row that exists already (another replica, an earlier run, an earlier flush): add to it. */
const ADD_TO_EXISTING = Object.fromEntries(
  COUNTERS.map((column) => [
    column,
    sql<number>`${sql.ref(`model_request_rollups.${column}`)} + ${sql.ref(`excluded.${column}`)}`,
  ]),
) as Record<Counter, ReturnType<typeof sql<number>>>;

function durationColumn(ms: number): DurationColumn {
  const index = DURATION_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return DURATION_COLUMNS[index === -1 ? DURATION_COLUMNS.length - 1 : index]!;
}

const rollupKey = (modelId: string, bucketStart: string) => `${modelId}\n${bucketStart}`;

function emptyRollup(modelId: string, bucketStart: string): Rollup {
  const rollup = { model_id: modelId, bucket_start: bucketStart } as Rollup;
  for (const column of COUNTERS) rollup[column] = 0;
  return rollup;
}

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
}

export interface ModelPerformance {
  requestCount: number;
  avgDurationMs: number | null;
  successRate: number | null;
}

/** Model state and per-model request metrics; one implementation for both dialects. */
export class ModelRepository {
  /** Requests recorded since the last flush, per model and minute. */
  private pending = new Map<string, Rollup>();
  private nextFlush: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** The minute the last record fell in, so that most records skip formatting a date. */
  private lastBucket = { startMs: Number.NaN, iso: "" };

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
   * Adds one request to its model's rollup for the minute it completed in. Rollups are added to
   * the store together, at most `RECORD_FLUSH_MS` later: one upsert per model and minute instead
   * of a row per request, so recording costs a request next to nothing and the table does not
   * grow with traffic. Readers in this process (`performance`) flush first; `flush` is also
   * called when the store closes. The promise settles when the request is in the store.
   */
  recordRequest(record: ModelRequestRecord): Promise<void> {
    const completedMs = record.startedAt.getTime() + record.durationMs;
    const bucketStart = this.bucketOf(completedMs);
    const key = rollupKey(record.modelId, bucketStart);
    let rollup = this.pending.get(key);
    if (rollup === undefined) {
      rollup = emptyRollup(record.modelId, bucketStart);
      this.pending.set(key, rollup);
    }
    const durationMs = Math.max(0, Math.round(record.durationMs));
    rollup.request_count += 1;
    if (record.success) rollup.success_count += 1;
    if (record.cacheHit === true) rollup.cache_hit_count += 1;
    rollup.duration_ms_sum += durationMs;
    rollup.prompt_tokens_sum += record.promptTokens ?? 0;
    rollup.completion_tokens_sum += record.completionTokens ?? 0;
    rollup[durationColumn(durationMs)] += 1;
    this.nextFlush ??= new Promise<void>((resolve, reject) => {
      setTimeout(() => this.flush().then(resolve, reject), RECORD_FLUSH_MS).unref();
    });
    return this.nextFlush;
  }

  /**
   * Adds every pending rollup to the store. When that fails, the rollups go back to the pending
   * ones (counts only ever add up), so the next flush retries them.
   */
  flush(): Promise<void> {
    this.nextFlush = undefined;
    const rollups = [...this.pending.values()];
    if (rollups.length === 0) return this.writing;
    this.pending = new Map();
    const written = this.writing.then(async () => {
      for (let start = 0; start < rollups.length; start += ROLLUP_BATCH) {
        const batch = rollups.slice(start, start + ROLLUP_BATCH);
        try {
          await this.db
            .insertInto("model_request_rollups")
            .values(batch)
            .onConflict((oc) => oc.columns(["model_id", "bucket_start"]).doUpdateSet(ADD_TO_EXISTING))
            .execute();
        } catch (err) {
          for (const rollup of rollups.slice(start)) this.putBack(rollup);
          throw err;
        }
      }
    });
    // A failed flush fails its callers, not every later one.
    this.writing = written.catch(() => undefined);
    return written;
  }

  /**
   * Average duration and success rate per model since the start of `since`'s minute (all time
   * when omitted).
   */
  async performance(since?: Date): Promise<Map<string, ModelPerformance>> {
    await this.flush().catch(() => undefined);
    let query = this.db
      .selectFrom("model_request_rollups")
      .select([
        "model_id",
        sql<number>`sum(request_count)`.as("n"),
        sql<number>`sum(duration_ms_sum)`.as("total_ms"),
        sql<number>`sum(success_count)`.as("ok"),
      ])
      .groupBy("model_id");
    if (since !== undefined) query = query.where("bucket_start", ">=", this.bucketOf(since.getTime()));
    const rows = await query.execute();
    return new Map(
      rows.map((row) => {
        const n = Number(row.n);
        return [
          row.model_id,
          {
            requestCount: n,
            avgDurationMs: n === 0 ? null : Math.round(Number(row.total_ms) / n),
            successRate: n === 0 ? null : Number(row.ok) / n,
          },
        ];
      }),
    );
  }

  /** The start of the UTC minute `ms` falls in, as ISO-8601. */
  private bucketOf(ms: number): string {
    const startMs = ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
    if (startMs !== this.lastBucket.startMs)
      this.lastBucket = { startMs, iso: new Date(startMs).toISOString() };
    return this.lastBucket.iso;
  }

  private putBack(rollup: Rollup): void {
    const key = rollupKey(rollup.model_id, rollup.bucket_start);
    const pending = this.pending.get(key);
    if (pending === undefined) {
      this.pending.set(key, rollup);
      return;
    }
    for (const column of COUNTERS) pending[column] += rollup[column];
  }
}
