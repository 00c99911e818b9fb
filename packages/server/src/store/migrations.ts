/**
 * Schema migrations, kept in code so the compiled server carries them (no migration folder to
 * ship or locate at run time). Only the Kysely schema builder and SQL that both dialects share
 * are used, so one migration serves SQLite and PostgreSQL alike. Names sort in the order they
 * must run; never rename or edit an applied one, add a new one instead. Every run is one
 * transaction on both dialects, so a migration must not open a transaction of its own.
 */
import { type Kysely, type Migration, Migrator, PostgresAdapter, SqliteAdapter, sql } from "kysely";

// Migrations see the database as it was when they were written, not as schema.ts says today,
// so they are not typed by schema.ts.
type AnyDatabase = Kysely<unknown>;

/**
 * The duration histogram's columns as migration 0006 made them (frozen here: schema.ts's
 * `DURATION_BOUNDS_MS` is today's list, which the tests check against the table).
 */
const ROLLUP_0006_DURATION_COLUMNS = (() => {
  const bounds = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];
  return [
    ...bounds.map((upTo, i) => ({ name: `duration_le_${upTo}ms`, above: bounds[i - 1] ?? -1, upTo })),
    { name: `duration_over_${bounds.at(-1)}ms`, above: bounds.at(-1) ?? 0, upTo: undefined },
  ];
})();

/** One row per request, as 0002 made it (0006 folds it into rollups; its `down` brings it back). */
async function createModelRequestsTable(db: AnyDatabase): Promise<void> {
  await db.schema
    .createTable("model_requests")
    .addColumn("id", "text", (col) => col.primaryKey())
    .addColumn("model_id", "text", (col) => col.notNull())
    .addColumn("started_at", "text", (col) => col.notNull())
    .addColumn("duration_ms", "integer", (col) => col.notNull())
    .addColumn("success", "integer", (col) => col.notNull())
    .addColumn("prompt_tokens", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("completion_tokens", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("cache_hit", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("error_code", "text")
    .execute();
  await db.schema
    .createIndex("model_requests_model_time")
    .on("model_requests")
    .columns(["model_id", "started_at"])
    .execute();
}

/** Where applied migrations are recorded. */
export const MIGRATION_TABLE = "aiservice_migration";

export const migrations: Record<string, Migration> = {
  "0001_api_keys": {
    async up(db: AnyDatabase): Promise<void> {
      await db.schema
        .createTable("api_keys")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("name", "text", (col) => col.notNull())
        .addColumn("prefix", "text", (col) => col.notNull())
        .addColumn("key_hash", "text", (col) => col.notNull().unique())
        .addColumn("scopes", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("last_used_at", "text")
        .addColumn("revoked_at", "text")
        .execute();
    },
    async down(db: AnyDatabase): Promise<void> {
      await db.schema.dropTable("api_keys").execute();
    },
  },
  "0002_models": {
    async up(db: AnyDatabase): Promise<void> {
      await db.schema
        .createTable("model_states")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("memory_bytes", "bigint", (col) => col.notNull().defaultTo(0))
        .addColumn("last_used_at", "text")
        .addColumn("last_error", "text")
        .addColumn("load_count", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("total_load_ms", "bigint", (col) => col.notNull().defaultTo(0))
        .addColumn("updated_at", "text", (col) => col.notNull())
        .execute();
      await createModelRequestsTable(db);
    },
    async down(db: AnyDatabase): Promise<void> {
      await db.schema.dropTable("model_requests").execute();
      await db.schema.dropTable("model_states").execute();
    },
  },
  "0003_inference_requests": {
    async up(db: AnyDatabase): Promise<void> {
      await db.schema
        .createTable("inference_requests")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("principal_id", "text", (col) => col.notNull())
        .addColumn("kind", "text", (col) => col.notNull())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("body", "text", (col) => col.notNull())
        .addColumn("result", "text")
        .addColumn("error", "text")
        .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("started_at", "text")
        .addColumn("completed_at", "text")
        .execute();
      await db.schema
        .createIndex("inference_requests_status")
        .on("inference_requests")
        .columns(["status", "created_at"])
        .execute();
    },
    async down(db: AnyDatabase): Promise<void> {
      await db.schema.dropTable("inference_requests").execute();
    },
  },
  "0004_optimization": {
    async up(db: AnyDatabase): Promise<void> {
      await db.schema
        .createTable("optimization_calls")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("trace_id", "text", (col) => col.notNull())
        .addColumn("endpoint", "text", (col) => col.notNull())
        .addColumn("principal_id", "text", (col) => col.notNull())
        .addColumn("experiment_id", "text")
        .addColumn("variant", "text")
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("request", "text", (col) => col.notNull())
        .addColumn("record", "text", (col) => col.notNull())
        .addColumn("response", "text")
        .addColumn("error", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("duration_ms", "integer", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("optimization_calls_trace")
        .on("optimization_calls")
        .columns(["trace_id", "created_at"])
        .execute();
      await db.schema
        .createTable("optimization_candidates")
        .addColumn("optimization_id", "text", (col) => col.primaryKey())
        .addColumn("call_id", "text", (col) => col.notNull())
        .addColumn("trace_id", "text", (col) => col.notNull())
        .addColumn("endpoint", "text", (col) => col.notNull())
        .addColumn("model", "text", (col) => col.notNull())
        .addColumn("experiment_id", "text")
        .addColumn("variant", "text")
        .addColumn("parent_id", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("optimization_candidates_trace")
        .on("optimization_candidates")
        .column("trace_id")
        .execute();
      await db.schema
        .createTable("optimization_results")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("trace_id", "text", (col) => col.notNull())
        .addColumn("experiment_id", "text")
        .addColumn("variant", "text")
        .addColumn("best_optimization_id", "text")
        .addColumn("payload", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("optimization_results_experiment")
        .on("optimization_results")
        .columns(["experiment_id", "created_at"])
        .execute();
    },
    async down(db: AnyDatabase): Promise<void> {
      await db.schema.dropTable("optimization_results").execute();
      await db.schema.dropTable("optimization_candidates").execute();
      await db.schema.dropTable("optimization_calls").execute();
    },
  },
  "0005_inference_heartbeat": {
    async up(db: AnyDatabase): Promise<void> {
      await db.schema.alterTable("inference_requests").addColumn("heartbeat_at", "text").execute();
    },
    async down(db: AnyDatabase): Promise<void> {
      await db.schema.alterTable("inference_requests").dropColumn("heartbeat_at").execute();
    },
  },
  // One row per request grew without bound (a busy gateway writes millions a day), made every
  // request pay for an insert, and made `GET /v1/ai/models` scan them all. Per-minute rollups
  // keep what the metrics read (counts, duration sums and a histogram, tokens); the requests
  // recorded so far are folded into them.
  "0006_model_request_rollups": {
    async up(db: AnyDatabase): Promise<void> {
      let table = db.schema
        .createTable("model_request_rollups")
        .addColumn("model_id", "text", (col) => col.notNull())
        .addColumn("bucket_start", "text", (col) => col.notNull())
        .addColumn("request_count", "integer", (col) => col.notNull())
        .addColumn("success_count", "integer", (col) => col.notNull())
        .addColumn("cache_hit_count", "integer", (col) => col.notNull())
        .addColumn("duration_ms_sum", "bigint", (col) => col.notNull())
        .addColumn("prompt_tokens_sum", "bigint", (col) => col.notNull())
        .addColumn("completion_tokens_sum", "bigint", (col) => col.notNull());
      for (const column of ROLLUP_0006_DURATION_COLUMNS) {
        table = table.addColumn(column.name, "integer", (col) => col.notNull());
      }
      await table.addPrimaryKeyConstraint("model_request_rollups_pk", ["model_id", "bucket_start"]).execute();
      await db.schema
        .createIndex("model_request_rollups_bucket")
        .on("model_request_rollups")
        .column("bucket_start")
        .execute();

      // ISO-8601 timestamps: the first 16 characters are the minute, in SQLite and PostgreSQL alike.
      const minute = sql<string>`substr(started_at, 1, 16)`;
      const histogram = ROLLUP_0006_DURATION_COLUMNS.map(
        ({ name, above, upTo }) =>
          sql`sum(case when duration_ms > ${sql.lit(above)}${
            upTo === undefined ? sql`` : sql` and duration_ms <= ${sql.lit(upTo)}`
          } then 1 else 0 end) as ${sql.ref(name)}`,
      );
      const columns = [
        "model_id",
        "bucket_start",
        "request_count",
        "success_count",
        "cache_hit_count",
        "duration_ms_sum",
        "prompt_tokens_sum",
        "completion_tokens_sum",
        ...ROLLUP_0006_DURATION_COLUMNS.map((column) => column.name),
      ];
      await sql`
        insert into model_request_rollups (${sql.join(columns.map((column) => sql.ref(column)))})
        select model_id, ${minute} || ':00.000Z', count(*), sum(success), sum(cache_hit),
          sum(duration_ms), sum(prompt_tokens), sum(completion_tokens), ${sql.join(histogram)}
        from model_requests
        group by model_id, ${minute}
      `.execute(db);
      await db.schema.dropTable("model_requests").execute();
    },
    async down(db: AnyDatabase): Promise<void> {
      // The per-request rows cannot be recovered from rollups; the table comes back empty.
      await createModelRequestsTable(db);
      await db.schema.dropTable("model_request_rollups").execute();
    },
  },
};

/** Applies every pending migration; throws an Error naming the migration that failed. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<void> {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) {
    await inSqliteWriteTransaction(db, () => runMigrator(db, undefined));
    return;
  }
  const schema = adapter instanceof PostgresAdapter ? await currentPostgresSchema(db) : undefined;
  await runMigrator(db, schema);
}

async function runMigrator<DB>(db: Kysely<DB>, migrationTableSchema: string | undefined): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Our own names, so a database shared with another Kysely application keeps both histories apart.
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
    ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === "Error");
  const reason = error instanceof Error ? error.message : String(error);
  const what =
    failed === undefined ? "database migrations could not run" : `migration ${failed.migrationName} failed`;
  throw new Error(`${what}: ${reason}`, { cause: error });
}

/**
 * Kysely runs SQLite migrations outside a transaction and takes no lock, but the CLI and the
 * server may open the same file at once. BEGIN IMMEDIATE takes SQLite's write lock (waiting up to
 * busy_timeout), so a second process finds the migrations already applied, and a failed
 * migration leaves no half-made table behind. It works because the dialect has one connection.
 */
async function inSqliteWriteTransaction<DB>(db: Kysely<DB>, run: () => Promise<void>): Promise<void> {
  await sql`begin immediate`.execute(db);
  try {
    await run();
  } catch (error) {
    // Some failures (disk full, I/O) already rolled back; the migration error is the one to report.
    await sql`rollback`.execute(db).catch(() => undefined);
    throw error;
  }
  await sql`commit`.execute(db);
}

/**
 * Kysely looks for its bookkeeping tables in every schema of the database, so an
 * `aiservice_migration` in another schema (another deployment, another test) would make it skip
 * creating ours. Pinning the bookkeeping to the schema our tables land in avoids that.
 */
async function currentPostgresSchema<DB>(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === null || schema === undefined) {
    throw new Error("no schema to create tables in: none of the search_path schemas exists");
  }
  return schema;
}
