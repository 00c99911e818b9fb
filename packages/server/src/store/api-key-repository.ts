import type { Kysely, Selectable } from "kysely";
import { isScope, type Scope } from "../auth/principal.js";
import type { ApiKeysTable, Database } from "./schema.js";
import type { ApiKeyRecord, ApiKeyRepository, NewApiKey } from "./store.js";

/** API keys in the `api_keys` table; the same queries serve SQLite and PostgreSQL. */
export class KyselyApiKeyRepository implements ApiKeyRepository {
  /** `now` is injectable so tests can order keys without sleeping. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    const row: Selectable<ApiKeysTable> = {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      key_hash: key.keyHash,
      scopes: JSON.stringify(key.scopes),
      created_at: this.now().toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.insertInto("api_keys").values(row).execute();
    return toRecord(row);
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async list(): Promise<ApiKeyRecord[]> {
    // id breaks ties between keys created in the same millisecond, so the order is stable.
    const rows = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toRecord);
  }

  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    // The `revoked_at is null` guard keeps the first revocation time when revoked again.
    await this.db
      .updateTable("api_keys")
      .set({ revoked_at: this.now().toISOString() })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .execute();
    return this.findById(id);
  }

  async touch(id: string, at: Date): Promise<void> {
    const iso = at.toISOString();
    // Concurrent requests finish out of order; never move last use backwards. ISO-8601 UTC
    // strings of one format compare correctly as text.
    await this.db
      .updateTable("api_keys")
      .set({ last_used_at: iso })
      .where("id", "=", id)
      .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", iso)]))
      .execute();
  }
}

function toRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    keyHash: row.key_hash,
    scopes: parseScopes(row.id, row.scopes),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

function parseScopes(id: string, text: string): Scope[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value)) throw new Error(`api key ${id}: scopes column is not a JSON array: ${text}`);
  const items: unknown[] = value;
  // A scope this version does not know (written by a newer one) grants nothing here.
  return items.filter((scope): scope is Scope => typeof scope === "string" && isScope(scope));
}
