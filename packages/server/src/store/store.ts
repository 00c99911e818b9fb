import type { Kysely } from "kysely";
import type { Scope } from "../auth/principal.js";
import type { InferenceRequestRepository } from "./inference-request-repository.js";
import type { ModelRepository } from "./model-repository.js";
import type { OptimizationRepository } from "./optimization-repository.js";
import type { Database } from "./schema.js";

export type StoreDialect = "sqlite" | "postgres";

/** An API key as stored (no secret, only its hash). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewApiKey {
  id: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: Scope[];
}

export interface ApiKeyRepository {
  insert(key: NewApiKey): Promise<ApiKeyRecord>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  /** All keys, newest first, revoked ones included (they show as revoked). */
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; returns the updated record, or undefined when no such key exists. */
  revoke(id: string): Promise<ApiKeyRecord | undefined>;
  /** Records use; best effort, never throws into the request path. */
  touch(id: string, at: Date): Promise<void>;
}

/** The one data-access layer: SQLite by default, PostgreSQL when DATABASE_URL is set. */
export interface Store {
  readonly dialect: StoreDialect;
  readonly db: Kysely<Database>;
  readonly apiKeys: ApiKeyRepository;
  readonly models: ModelRepository;
  readonly inferenceRequests: InferenceRequestRepository;
  readonly optimization: OptimizationRepository;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
