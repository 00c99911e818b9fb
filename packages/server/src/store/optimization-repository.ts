import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface OptimizationCallRecord {
  id: string;
  traceId: string;
  endpoint: string;
  principalId: string;
  experimentId: string | null;
  variant: string | null;
  status: "ok" | "failed";
  request: unknown;
  record: unknown;
  response: unknown;
  error: string | null;
  createdAt: string;
  durationMs: number;
}

export interface OptimizationCandidateRecord {
  optimizationId: string;
  callId: string;
  traceId: string;
  endpoint: string;
  model: string;
  experimentId: string | null;
  variant: string | null;
  parentId: string | null;
  createdAt: string;
}

export interface OptimizationResultRecord {
  id: string;
  traceId: string;
  experimentId: string | null;
  variant: string | null;
  bestOptimizationId: string | null;
  payload: unknown;
  createdAt: string;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Traces of /ai/* calls, the candidates they produced, and the outcomes clients reported. */
export class OptimizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a call and its candidates in one transaction: a trace never lists half a call. */
  async insertCall(
    call: OptimizationCallRecord,
    candidates: readonly OptimizationCandidateRecord[],
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("optimization_calls")
        .values({
          id: call.id,
          trace_id: call.traceId,
          endpoint: call.endpoint,
          principal_id: call.principalId,
          experiment_id: call.experimentId,
          variant: call.variant,
          status: call.status,
          request: JSON.stringify(call.request),
          record: JSON.stringify(call.record),
          response: call.response === undefined ? null : JSON.stringify(call.response),
          error: call.error,
          created_at: call.createdAt,
          duration_ms: Math.round(call.durationMs),
        })
        .execute();
      if (candidates.length === 0) return;
      await trx
        .insertInto("optimization_candidates")
        .values(
          candidates.map((c) => ({
            optimization_id: c.optimizationId,
            call_id: c.callId,
            trace_id: c.traceId,
            endpoint: c.endpoint,
            model: c.model,
            experiment_id: c.experimentId,
            variant: c.variant,
            parent_id: c.parentId,
            created_at: c.createdAt,
          })),
        )
        .execute();
    });
  }

  /** Every call of a trace, oldest first. */
  async callsOfTrace(traceId: string): Promise<OptimizationCallRecord[]> {
    const rows = await this.db
      .selectFrom("optimization_calls")
      .selectAll()
      .where("trace_id", "=", traceId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((row) => ({
      id: row.id,
      traceId: row.trace_id,
      endpoint: row.endpoint,
      principalId: row.principal_id,
      experimentId: row.experiment_id,
      variant: row.variant,
      status: row.status === "ok" ? "ok" : "failed",
      request: parse(row.request),
      record: parse(row.record),
      response: parse(row.response),
      error: row.error,
      createdAt: row.created_at,
      durationMs: Number(row.duration_ms),
    }));
  }

  /** Candidates of the given trace ids. */
  async candidatesOfTraces(traceIds: readonly string[]): Promise<OptimizationCandidateRecord[]> {
    if (traceIds.length === 0) return [];
    const rows = await this.db
      .selectFrom("optimization_candidates")
      .selectAll()
      .where("trace_id", "in", [...traceIds])
      .execute();
    return rows.map((row) => ({
      optimizationId: row.optimization_id,
      callId: row.call_id,
      traceId: row.trace_id,
      endpoint: row.endpoint,
      model: row.model,
      experimentId: row.experiment_id,
      variant: row.variant,
      parentId: row.parent_id,
      createdAt: row.created_at,
    }));
  }

  /** The experiment and variant a trace's calls were made under, if any. */
  async experimentOfTrace(
    traceId: string,
  ): Promise<{ experimentId: string; variant: string | null } | undefined> {
    const row = await this.db
      .selectFrom("optimization_calls")
      .select(["experiment_id", "variant"])
      .where("trace_id", "=", traceId)
      .where("experiment_id", "is not", null)
      .orderBy("created_at")
      .executeTakeFirst();
    return row?.experiment_id == null ? undefined : { experimentId: row.experiment_id, variant: row.variant };
  }

  async insertResult(result: OptimizationResultRecord): Promise<void> {
    await this.db
      .insertInto("optimization_results")
      .values({
        id: result.id,
        trace_id: result.traceId,
        experiment_id: result.experimentId,
        variant: result.variant,
        best_optimization_id: result.bestOptimizationId,
        payload: JSON.stringify(result.payload),
        created_at: result.createdAt,
      })
      .execute();
  }

  async resultsOfExperiment(experimentId: string): Promise<OptimizationResultRecord[]> {
    const rows = await this.db
      .selectFrom("optimization_results")
      .selectAll()
      .where("experiment_id", "=", experimentId)
      .orderBy("created_at")
      .execute();
    return rows.map((row) => ({
      id: row.id,
      traceId: row.trace_id,
      experimentId: row.experiment_id,
      variant: row.variant,
      bestOptimizationId: row.best_optimization_id,
      payload: parse(row.payload),
      createdAt: row.created_at,
    }));
  }
}
