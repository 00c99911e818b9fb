import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

export type InferenceRequestStatus = "queued" | "running" | "completed" | "failed";

export interface InferenceRequestRecord {
  id: string;
  principalId: string;
  kind: string;
  status: InferenceRequestStatus;
  body: unknown;
  result: unknown;
  error: unknown;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

type Row = Awaited<ReturnType<InferenceRequestRepository["row"]>>;

function toRecord(row: NonNullable<Row>): InferenceRequestRecord {
  return {
    id: row.id,
    principalId: row.principal_id,
    kind: row.kind,
    status: row.status as InferenceRequestStatus,
    body: JSON.parse(row.body),
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error === null ? null : JSON.parse(row.error),
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

/** Async inference requests; claims are compare-and-set, so two workers never run one request. */
export class InferenceRequestRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private row(id: string) {
    return this.db.selectFrom("inference_requests").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async insert(request: { id: string; principalId: string; kind: string; body: unknown }): Promise<void> {
    await this.db
      .insertInto("inference_requests")
      .values({
        id: request.id,
        principal_id: request.principalId,
        kind: request.kind,
        status: "queued",
        body: JSON.stringify(request.body),
        result: null,
        error: null,
        created_at: new Date().toISOString(),
        started_at: null,
        completed_at: null,
      })
      .execute();
  }

  async get(id: string): Promise<InferenceRequestRecord | undefined> {
    const row = await this.row(id);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Takes the oldest queued request, or undefined when none is left. */
  async claimNext(): Promise<InferenceRequestRecord | undefined> {
    const candidates = await this.db
      .selectFrom("inference_requests")
      .select("id")
      .where("status", "=", "queued")
      .orderBy("created_at")
      .limit(5)
      .execute();
    for (const { id } of candidates) {
      const claimed = await this.db
        .updateTable("inference_requests")
        .set((eb) => {
          const now = new Date().toISOString();
          return { status: "running", started_at: now, heartbeat_at: now, attempts: eb("attempts", "+", 1) };
        })
        .where("id", "=", id)
        .where("status", "=", "queued")
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) return this.get(id);
    }
    return undefined;
  }

  /**
   * Stores the outcome of the run that claimed the request as attempt `attempt`. A run that lost
   * its claim (taken back after its heartbeat stopped, and claimed again elsewhere) stores
   * nothing and gets false: the later run's outcome is the one that counts.
   */
  async finish(
    id: string,
    attempt: number,
    outcome: { result: unknown } | { error: unknown },
  ): Promise<boolean> {
    const updated = await this.db
      .updateTable("inference_requests")
      .set({
        status: "result" in outcome ? "completed" : "failed",
        result: "result" in outcome ? JSON.stringify(outcome.result) : null,
        error: "error" in outcome ? JSON.stringify(outcome.error) : null,
        completed_at: new Date().toISOString(),
      })
      .where("id", "=", id)
      .where("attempts", "=", attempt)
      // Taken back but not claimed again yet: the answer is still welcome.
      .where("status", "in", ["running", "queued"])
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Renews the heartbeat of requests this process is running. */
  async heartbeat(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable("inference_requests")
      .set({ heartbeat_at: new Date().toISOString() })
      .where("id", "in", [...ids])
      .where("status", "=", "running")
      .execute();
  }

  /**
   * Puts running requests back in the queue: interrupted by a shutdown (`ids`) or a crash (all,
   * or those whose heartbeat is older than `silentSince` when other live processes may still be
   * running some; `exceptIds` are the caller's own, still running).
   */
  async requeue(
    filter: { ids?: readonly string[]; silentSince?: Date; exceptIds?: readonly string[] } = {},
  ): Promise<number> {
    let query = this.db
      .updateTable("inference_requests")
      .set({ status: "queued", started_at: null, heartbeat_at: null })
      .where("status", "=", "running");
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return 0;
      query = query.where("id", "in", [...filter.ids]);
    }
    if (filter.exceptIds !== undefined && filter.exceptIds.length > 0)
      query = query.where("id", "not in", [...filter.exceptIds]);
    // Rows from before heartbeats existed have none: their start is their last sign of life.
    if (filter.silentSince !== undefined)
      query = query.where(sql`coalesce(heartbeat_at, started_at)`, "<", filter.silentSince.toISOString());
    return Number((await query.executeTakeFirst()).numUpdatedRows);
  }
}
