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

export interface Database {
  api_keys: ApiKeysTable;
}

/** Marker so later tables with auto-increment ids can use Kysely's `Generated`. */
export type AutoId = Generated<number>;
