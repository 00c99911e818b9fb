/**
 * Table types for Kysely. One definition for both dialects: timestamps are ISO-8601 UTC
 * strings (they sort correctly as text in SQLite and PostgreSQL alike), lists are JSON text.
 */
import type { Generated } from "kysely";

export interface ApiKeysTable {
  /** Short public id, safe to list and log (e.g. `k7f3q2x9ab`). */
  id: string;
  name: string;
  /** Human-visible prefix of the key (`ais-`, `cf-`), kept so `keys list` can show it. */
  prefix: string;
  /** SHA-256 hex of the full key; the key itself is never stored. */
  key_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** What the registry remembers of each model across restarts. */
export interface ModelStatesTable {
  id: string;
  /** available | loading | loaded | unloading | error, as last seen by this store's writer. */
  status: string;
  memory_bytes: Generated<number>;
  last_used_at: string | null;
  last_error: string | null;
  load_count: Generated<number>;
  /** Sum of successful load durations: with load_count, the estimate for the next load. */
  total_load_ms: Generated<number>;
  updated_at: string;
}

/**
 * Upper bounds (ms) of the request-duration histogram in `model_request_rollups`, one column each
 * (`duration_le_<bound>ms`) plus `duration_over_<last>ms`: percentiles over any window come from
 * summing them. Changing the list needs a migration that changes the columns.
 */
export const DURATION_BOUNDS_MS = [
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000,
] as const;
type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L extends number]
  ? L
  : never;
export type DurationColumn =
  | `duration_le_${(typeof DURATION_BOUNDS_MS)[number]}ms`
  | `duration_over_${Last<typeof DURATION_BOUNDS_MS>}ms`;
/** The histogram's columns, shortest durations first. */
export const DURATION_COLUMNS: readonly DurationColumn[] = [
  ...DURATION_BOUNDS_MS.map((bound) => `duration_le_${bound}ms` as const),
  `duration_over_${DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1]}ms` as DurationColumn,
];

/**
 * Requests of one model that completed in one UTC minute: the source of per-model metrics. Rows
 * are only ever added to (`count = count + new`), so every replica and every restart adds to the
 * same row, and the table grows with time and models, not with traffic.
 */
export type ModelRequestRollupsTable = {
  model_id: string;
  /** The minute's start, ISO-8601 UTC (`2026-11-24T21:05:00.000Z`). */
  bucket_start: string;
  request_count: number;
  success_count: number;
  cache_hit_count: number;
  /** Sum of durations in whole milliseconds (with request_count, the average). */
  duration_ms_sum: number;
  prompt_tokens_sum: number;
  completion_tokens_sum: number;
} & Record<DurationColumn, number>;

/** Accepted `options.async` requests: executed by a worker, kept so none is lost across restarts. */
export interface InferenceRequestsTable {
  id: string;
  principal_id: string;
  kind: string;
  /** queued | running | completed | failed */
  status: string;
  /** The request body as JSON. */
  body: string;
  result: string | null;
  error: string | null;
  attempts: Generated<number>;
  created_at: string;
  started_at: string | null;
  /** Renewed by the process running it: a request whose heartbeat stopped is taken back. */
  heartbeat_at: string | null;
  completed_at: string | null;
}

/** One /ai/* call: what came in, what the models were asked and said, what went out. */
export interface OptimizationCallsTable {
  id: string;
  trace_id: string;
  /** Canonical endpoint name (optimize, refinement, testgen…). */
  endpoint: string;
  principal_id: string;
  /** `experiment_metadata.id` (or the trace's experiment), when the call is part of an A/B run. */
  experiment_id: string | null;
  /** `experiment_metadata.group`. */
  variant: string | null;
  /** ok | failed */
  status: string;
  /** The request body as JSON. */
  request: string;
  /** JSON: model calls (prompt, raw output, timing, error), candidates and drops with reasons. */
  record: string;
  response: string | null;
  error: string | null;
  created_at: string;
  duration_ms: number;
}

/** Every candidate handed to a client, so results and rankings can be traced to a model. */
export interface OptimizationCandidatesTable {
  optimization_id: string;
  call_id: string;
  trace_id: string;
  endpoint: string;
  model: string;
  experiment_id: string | null;
  variant: string | null;
  parent_id: string | null;
  created_at: string;
}

/** `/ai/log_features` reports: measured outcomes of one optimized function. */
export interface OptimizationResultsTable {
  id: string;
  trace_id: string;
  experiment_id: string | null;
  variant: string | null;
  best_optimization_id: string | null;
  /** The request body as JSON. */
  payload: string;
  created_at: string;
}

export interface Database {
  api_keys: ApiKeysTable;
  model_states: ModelStatesTable;
  model_request_rollups: ModelRequestRollupsTable;
  inference_requests: InferenceRequestsTable;
  optimization_calls: OptimizationCallsTable;
  optimization_candidates: OptimizationCandidatesTable;
  optimization_results: OptimizationResultsTable;
}
