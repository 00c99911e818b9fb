/**
 * PostgreSQL for tests: each test file gets its own schema in the shared test database, so
 * files run in parallel without seeing each other's tables.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type PostgresProbe = { available: true } | { available: false; reason: string };

/**
 * Whether the test database answers. Unreachable on CI is an error (the CI job provides one, and
 * silently skipping would hide a broken dialect); locally the caller skips with the reason.
 */
export async function probePostgres(url: string = TEST_DATABASE_URL): Promise<PostgresProbe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return { available: true };
  } catch (error) {
    const reason = `PostgreSQL at ${url} is unreachable: ${error instanceof Error ? error.message || error.name : String(error)}`;
    if (process.env.CI) throw new Error(`${reason} (CI must provide it; set TEST_DATABASE_URL)`);
    return { available: false, reason };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestSchema {
  schema: string;
  /** The test database URL with `search_path` set to the schema for every connection. */
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Creates a uniquely named schema; call `drop()` when the test file is done. */
export async function createTestSchema(baseUrl: string = TEST_DATABASE_URL): Promise<TestSchema> {
  const schema = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withClient(baseUrl, (client) => client.query(`create schema ${schema}`));
  return {
    schema,
    url: withSearchPath(baseUrl, schema),
    drop: () => withClient(baseUrl, (client) => client.query(`drop schema if exists ${schema} cascade`)),
  };
}

/** pg passes the `options` parameter to the server at connect time, as libpq does. */
export function withSearchPath(url: string, schema: string): string {
  const separator = url.includes("?") ? "&" : "?";
  return `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

async function withClient(url: string, run: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}
