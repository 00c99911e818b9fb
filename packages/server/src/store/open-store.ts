import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { type Dialect, Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import { Pool, TypeOverrides, types } from "pg";
import { redactUrl } from "../config/redact-config.js";
import { KyselyApiKeyRepository } from "./api-key-repository.js";
import { migrateToLatest } from "./migrations.js";
import { InferenceRequestRepository } from "./inference-request-repository.js";
import { ModelRepository } from "./model-repository.js";
import { OptimizationRepository } from "./optimization-repository.js";
import type { Database } from "./schema.js";
import type { Store, StoreDialect } from "./store.js";

export const SQLITE_FILE_NAME = "aiservice.db";

/** How long opening a PostgreSQL connection may take before start-up fails. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface OpenStoreOptions {
  dataDir: string;
  /** A postgres:// URL; SQLite in `dataDir` when unset. */
  databaseUrl?: string | undefined;
  /**
   * Errors of idle pooled PostgreSQL connections (server restart, network drop). They happen
   * outside any request, and unhandled they would crash the process; the next query reconnects.
   * Default: a process warning on stderr.
   */
  onBackgroundError?: ((error: Error) => void) | undefined;
}

/**
 * Opens the database, applies pending migrations and returns the store. Rejects with an Error
 * naming the database (password redacted) and the reason when it cannot be opened.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const target = describeTarget(options);
  let db: Kysely<Database> | undefined;
  try {
    const { dialect, kyselyDialect } = createDialect(options);
    db = new Kysely<Database>({ dialect: kyselyDialect });
    // Connect before migrating, so an unreachable server reads as that, not as a failed migration.
    await sql`select 1`.execute(db);
    await migrateToLatest(db);
    return createStore(db, dialect);
  } catch (error) {
    await db?.destroy().catch(() => undefined);
    throw new Error(`cannot open ${target}: ${describeError(error)}`, { cause: error });
  }
}

function describeTarget(options: OpenStoreOptions): string {
  return options.databaseUrl === undefined
    ? `SQLite database ${sqlitePath(options.dataDir)}`
    : `PostgreSQL database ${redactUrl(options.databaseUrl)}`;
}

function sqlitePath(dataDir: string): string {
  return join(resolve(dataDir), SQLITE_FILE_NAME);
}

function createDialect(options: OpenStoreOptions): { dialect: StoreDialect; kyselyDialect: Dialect } {
  if (options.databaseUrl === undefined) {
    return { dialect: "sqlite", kyselyDialect: new SqliteDialect({ database: openSqlite(options.dataDir) }) };
  }
  if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    throw new Error("the URL must start with postgres:// or postgresql://");
  }
  const pool = new Pool({
    connectionString: options.databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: postgresTypes(),
  });
  const onError = options.onBackgroundError ?? warnBackgroundError;
  pool.on("error", onError);
  return { dialect: "postgres", kyselyDialect: new PostgresDialect({ pool }) };
}

/** Opened eagerly (not lazily by Kysely) so a bad path fails here, at start-up. */
function openSqlite(dataDir: string): SqliteDatabase.Database {
  mkdirSync(dataDir, { recursive: true });
  const database = new SqliteDatabase(sqlitePath(dataDir));
  try {
    // busy_timeout first, so that switching to WAL waits for another process instead of failing.
    database.pragma("busy_timeout = 5000");
    // WAL lets the CLI and the server (readers and one writer) use the file at the same time.
    database.pragma("journal_mode = WAL");
    // NORMAL is durable in WAL mode except for the last transactions on power loss.
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

/**
 * Counts and sums come back as int8, which pg returns as strings by default. Numbers match
 * what SQLite returns; ours stay far below 2^53. Overridden for this pool only, not globally.
 */
function postgresTypes(): TypeOverrides {
  const overrides = new TypeOverrides();
  overrides.setTypeParser(types.builtins.INT8, (value: string) => Number(value));
  return overrides;
}

function warnBackgroundError(error: Error): void {
  process.emitWarning(`idle PostgreSQL connection failed: ${error.message}`, "DatabaseWarning");
}

function createStore(db: Kysely<Database>, dialect: StoreDialect): Store {
  let closing: Promise<void> | undefined;
  const models = new ModelRepository(db);
  return {
    dialect,
    db,
    apiKeys: new KyselyApiKeyRepository(db),
    models,
    inferenceRequests: new InferenceRequestRepository(db),
    optimization: new OptimizationRepository(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      // pg's Pool.end throws when called twice; every caller gets the first close's outcome.
      // Queued request records are written before the connection goes.
      closing ??= models
        .flush()
        .catch(() => undefined)
        .then(() => db.destroy());
      return closing;
    },
  };
}

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map(describeError).join("; ");
  }
  if (error instanceof Error) {
    if (error.message !== "") return error.message;
    const code = (error as NodeJS.ErrnoException).code;
    return code ?? error.name;
  }
  return String(error);
}
