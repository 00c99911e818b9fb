import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Scope } from "../../src/auth/principal.js";
import { KyselyApiKeyRepository } from "../../src/store/api-key-repository.js";
import { migrations } from "../../src/store/migrations.js";
import { type OpenStoreOptions, openStore } from "../../src/store/open-store.js";
import type { NewApiKey, Store, StoreDialect } from "../../src/store/store.js";
import { createTestSchema, probePostgres, TEST_DATABASE_URL } from "../helpers/postgres.js";

const postgres = await probePostgres();
if (!postgres.available) console.warn(`skipping the PostgreSQL store tests: ${postgres.reason}`);

/** A fresh, empty database per test, so no test sees another's keys. */
interface Fresh {
  options: OpenStoreOptions;
  /** The PostgreSQL schema the store works in. */
  schema?: string;
  cleanup(): Promise<void>;
}

const targets: { dialect: StoreDialect; skip: string | undefined; fresh(): Promise<Fresh> }[] = [
  {
    dialect: "sqlite",
    skip: undefined,
    async fresh() {
      const dataDir = tempDir();
      return { options: { dataDir }, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    dialect: "postgres",
    skip: postgres.available ? undefined : postgres.reason,
    async fresh() {
      const dataDir = tempDir();
      const schema = await createTestSchema();
      return {
        options: { dataDir, databaseUrl: schema.url },
        schema: schema.schema,
        async cleanup() {
          await schema.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "aiservice-store-"));
}

function newKey(id: string, scopes: Scope[] = ["inference"]): NewApiKey {
  return { id, name: `key ${id}`, prefix: "ais-", keyHash: `hash-of-${id}`, scopes };
}

/** A clock the test moves by hand: one second per call unless set. */
function steppingClock(start = Date.parse("2026-01-01T00:00:00.000Z")): () => Date {
  let next = start;
  return () => {
    const now = new Date(next);
    next += 1_000;
    return now;
  };
}

async function migrationNames(store: Store): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from aiservice_migration order by name`.execute(
    store.db,
  );
  return rows.map((row) => row.name);
}

for (const target of targets) {
  const title = target.skip === undefined ? target.dialect : `${target.dialect} (skipped: ${target.skip})`;

  describe.skipIf(target.skip !== undefined)(`store on ${title}`, () => {
    let fresh: Fresh;
    const opened: Store[] = [];
    const open = async (): Promise<Store> => {
      const store = await openStore(fresh.options);
      opened.push(store);
      return store;
    };

    beforeEach(async () => {
      fresh = await target.fresh();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await fresh.cleanup();
    });

    it("runs the migrations at open, once, and keeps data across reopen", async () => {
      const first = await open();
      expect(first.dialect).toBe(target.dialect);
      expect(await migrationNames(first)).toEqual(Object.keys(migrations).sort());
      expect(await first.apiKeys.list()).toEqual([]);
      await first.apiKeys.insert(newKey("k1", ["inference", "batch"]));
      await first.close();

      const second = await open();
      expect(await migrationNames(second)).toEqual(Object.keys(migrations).sort());
      expect((await second.apiKeys.findById("k1"))?.scopes).toEqual(["inference", "batch"]);
    });

    it("round-trips a key with its scopes and ISO timestamps", async () => {
      const store = await open();
      const scopes: Scope[] = ["models:manage", "admin", "webhooks"];
      const inserted = await store.apiKeys.insert(newKey("k1", scopes));
      expect(inserted).toMatchObject({
        id: "k1",
        name: "key k1",
        prefix: "ais-",
        keyHash: "hash-of-k1",
        scopes,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(new Date(inserted.createdAt).toISOString()).toBe(inserted.createdAt);
      expect(await store.apiKeys.findById("k1")).toEqual(inserted);
      expect(await store.apiKeys.list()).toEqual([inserted]);
    });

    it("returns undefined for an unknown id", async () => {
      const store = await open();
      expect(await store.apiKeys.findById("nope")).toBeUndefined();
      expect(await store.apiKeys.revoke("nope")).toBeUndefined();
      await expect(store.apiKeys.touch("nope", new Date())).resolves.toBeUndefined();
    });

    it("rejects a duplicate id and a duplicate key hash", async () => {
      const store = await open();
      await store.apiKeys.insert(newKey("k1"));
      await expect(store.apiKeys.insert({ ...newKey("k1"), keyHash: "other" })).rejects.toThrow();
      await expect(store.apiKeys.insert({ ...newKey("k2"), keyHash: "hash-of-k1" })).rejects.toThrow();
      expect(await store.apiKeys.list()).toHaveLength(1);
    });

    it("lists newest first, breaking ties by id", async () => {
      const store = await open();
      const times = ["2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z", "2026-01-01T00:00:00.000Z"];
      const ids = ["middle", "newest", "oldest"];
      for (const [index, id] of ids.entries()) {
        const at = new Date(times[index]!);
        await new KyselyApiKeyRepository(store.db, () => at).insert(newKey(id));
      }
      const sameTime = new KyselyApiKeyRepository(store.db, () => new Date("2026-01-01T00:00:00.000Z"));
      await sameTime.insert(newKey("oldest-b"));
      expect((await store.apiKeys.list()).map((key) => key.id)).toEqual([
        "newest",
        "middle",
        "oldest-b",
        "oldest",
      ]);
    });

    it("revokes once: revoking again keeps the first time", async () => {
      const store = await open();
      const repo = new KyselyApiKeyRepository(store.db, steppingClock());
      await repo.insert(newKey("k1"));
      const revoked = await repo.revoke("k1");
      expect(revoked?.revokedAt).toBe("2026-01-01T00:00:01.000Z");
      expect((await repo.revoke("k1"))?.revokedAt).toBe("2026-01-01T00:00:01.000Z");
      expect(await store.apiKeys.findById("k1")).toEqual(revoked);
      expect((await store.apiKeys.list())[0]?.revokedAt).toBe("2026-01-01T00:00:01.000Z");
    });

    it("touch records the latest use and never moves it backwards", async () => {
      const store = await open();
      await store.apiKeys.insert(newKey("k1"));
      const later = new Date("2026-03-01T12:00:00.000Z");
      const earlier = new Date("2026-02-01T12:00:00.000Z");
      await store.apiKeys.touch("k1", later);
      await store.apiKeys.touch("k1", earlier);
      expect((await store.apiKeys.findById("k1"))?.lastUsedAt).toBe(later.toISOString());
      const latest = new Date("2026-04-01T12:00:00.000Z");
      await store.apiKeys.touch("k1", latest);
      expect((await store.apiKeys.findById("k1"))?.lastUsedAt).toBe(latest.toISOString());
    });

    it("returns counts as numbers", async () => {
      const store = await open();
      await store.apiKeys.insert(newKey("k1"));
      const row = await store.db
        .selectFrom("api_keys")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      expect(row.n).toBe(1);
    });

    it("stores optimization calls with their candidates, and results by experiment", async () => {
      const store = await open();
      const call = (id: string, createdAt: string, experimentId: string | null) => ({
        id,
        traceId: "trace-1",
        endpoint: "optimize",
        principalId: "anonymous:127.0.0.1",
        experimentId,
        variant: experimentId === null ? null : "control",
        status: "ok" as const,
        request: { source_code: "```python:a.py\nx = 1\n```", n: [1, 2] },
        record: { model_calls: [{ output: "ünïcödé ✓" }] },
        response: { optimizations: [] },
        error: null,
        createdAt,
        durationMs: 12.6,
      });
      const candidate = (optimizationId: string, callId: string) => ({
        optimizationId,
        callId,
        traceId: "trace-1",
        endpoint: "optimize",
        model: "coder",
        experimentId: null,
        variant: null,
        parentId: null,
        createdAt: "2026-01-01T00:00:00.000Z",
      });
      await store.optimization.insertCall(call("c2", "2026-01-01T00:00:02.000Z", "exp"), [
        candidate("o2", "c2"),
      ]);
      await store.optimization.insertCall(call("c1", "2026-01-01T00:00:01.000Z", null), [
        candidate("o1", "c1"),
        candidate("o3", "c1"),
      ]);
      const calls = await store.optimization.callsOfTrace("trace-1");
      expect(calls.map((c) => c.id)).toEqual(["c1", "c2"]);
      expect(calls[0]?.request).toEqual({ source_code: "```python:a.py\nx = 1\n```", n: [1, 2] });
      expect(calls[0]?.record).toEqual({ model_calls: [{ output: "ünïcödé ✓" }] });
      expect(calls[0]?.durationMs).toBe(13);
      expect(await store.optimization.experimentOfTrace("trace-1")).toEqual({
        experimentId: "exp",
        variant: "control",
      });
      expect(await store.optimization.experimentOfTrace("other")).toBeUndefined();
      const candidates = await store.optimization.candidatesOfTraces(["trace-1"]);
      expect(candidates.map((c) => c.optimizationId).sort()).toEqual(["o1", "o2", "o3"]);
      // A call and its candidates are one transaction: a clashing candidate id stores neither.
      await expect(
        store.optimization.insertCall(call("c3", "2026-01-01T00:00:03.000Z", null), [candidate("o1", "c3")]),
      ).rejects.toThrow();
      expect((await store.optimization.callsOfTrace("trace-1")).map((c) => c.id)).toEqual(["c1", "c2"]);

      await store.optimization.insertResult({
        id: "r1",
        traceId: "trace-1",
        experimentId: "exp",
        variant: "control",
        bestOptimizationId: "o2",
        payload: { speedup_ratio: { o2: 1.5 } },
        createdAt: "2026-01-01T00:00:04.000Z",
      });
      const results = await store.optimization.resultsOfExperiment("exp");
      expect(results).toHaveLength(1);
      expect(results[0]?.payload).toEqual({ speedup_ratio: { o2: 1.5 } });
      expect(await store.optimization.resultsOfExperiment("nope")).toEqual([]);
    });

    describe("request metrics", () => {
      const request = (modelId: string, startedAt: string, durationMs: number, extra: object = {}) => ({
        modelId,
        startedAt: new Date(startedAt),
        durationMs,
        success: true,
        ...extra,
      });
      /** Every rollup row, numbers as numbers (PostgreSQL hands bigint sums over as strings). */
      const rollups = async (s: Store) => {
        const rows = await s.db
          .selectFrom("model_request_rollups")
          .selectAll()
          .orderBy("model_id")
          .orderBy("bucket_start")
          .execute();
        return rows.map((row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [
              k,
              k === "model_id" || k === "bucket_start" ? v : Number(v),
            ]),
          ),
        );
      };
      const histogram = (row: Record<string, unknown> | undefined) =>
        Object.fromEntries(
          Object.entries(row ?? {}).filter(([k, v]) => k.startsWith("duration_") && v !== 0),
        );

      it("rolls requests up per model and the minute they completed in", async () => {
        const store = await open();
        const queued = [
          store.models.recordRequest(
            request("m", "2026-01-01T00:00:10Z", 8, { promptTokens: 5, completionTokens: 7 }),
          ),
          // Started in the first minute, completed in the second.
          store.models.recordRequest(request("m", "2026-01-01T00:00:20Z", 40_000, { success: false })),
          store.models.recordRequest(request("m", "2026-01-01T00:00:30Z", 0.4, { cacheHit: true })),
          store.models.recordRequest(request("other", "2026-01-01T00:00:30Z", 400_000)),
        ];
        // Held in memory until the flush: nothing written yet.
        expect(await rollups(store)).toEqual([]);
        // performance() flushes first.
        const perf = await store.models.performance();
        expect(perf.get("m")).toEqual({ requestCount: 3, avgDurationMs: 13_336, successRate: 2 / 3 });
        expect(perf.get("other")).toEqual({ requestCount: 1, avgDurationMs: 400_000, successRate: 1 });
        await Promise.all(queued);

        const rows = await rollups(store);
        expect(rows.map((r) => [r.model_id, r.bucket_start])).toEqual([
          ["m", "2026-01-01T00:00:00.000Z"],
          ["m", "2026-01-01T00:01:00.000Z"],
          ["other", "2026-01-01T00:07:00.000Z"],
        ]);
        expect(rows[0]).toMatchObject({
          request_count: 2,
          success_count: 2,
          cache_hit_count: 1,
          duration_ms_sum: 8,
          prompt_tokens_sum: 5,
          completion_tokens_sum: 7,
        });
        expect(histogram(rows[0])).toEqual({ duration_ms_sum: 8, duration_le_10ms: 2 });
        expect(rows[1]).toMatchObject({ request_count: 1, success_count: 0, duration_ms_sum: 40_000 });
        expect(histogram(rows[1])).toEqual({ duration_ms_sum: 40_000, duration_le_60000ms: 1 });
        expect(histogram(rows[2])).toEqual({ duration_ms_sum: 400_000, duration_over_300000ms: 1 });

        const since = await store.models.performance(new Date("2026-01-01T00:01:30Z"));
        expect(since.get("m")).toEqual({ requestCount: 1, avgDurationMs: 40_000, successRate: 0 });
      });

      it("adds to the same rows across stores and restarts, and close() writes what is pending", async () => {
        const first = await open();
        const second = await open();
        await Promise.all([
          first.models.recordRequest(request("m", "2026-01-01T00:00:01Z", 100)),
          second.models.recordRequest(request("m", "2026-01-01T00:00:02Z", 300)),
          second.models.recordRequest(request("m", "2026-01-01T00:00:03Z", 20, { success: false })),
        ]);
        void first.models.recordRequest(request("m", "2026-01-01T00:00:04Z", 60));
        await first.close();
        await second.close();

        const reopened = await open();
        const [row] = await rollups(reopened);
        expect(row).toMatchObject({ request_count: 4, success_count: 3, duration_ms_sum: 480 });
        expect(histogram(row)).toMatchObject({
          duration_le_25ms: 1,
          duration_le_100ms: 2,
          duration_le_500ms: 1,
        });
      });

      it("keeps the requests of a failed write for the next one", async () => {
        const store = await open();
        await sql`alter table model_request_rollups rename to rollups_away`.execute(store.db);
        await expect(store.models.recordRequest(request("m", "2026-01-01T00:00:01Z", 10))).rejects.toThrow();
        await sql`alter table rollups_away rename to model_request_rollups`.execute(store.db);
        await store.models.recordRequest(request("m", "2026-01-01T00:00:02Z", 10));
        expect((await store.models.performance()).get("m")?.requestCount).toBe(2);
      });

      it("folds the per-request rows of earlier versions into rollups (migration 0006)", async () => {
        const name = "0006_model_request_rollups";
        const store = await open();
        // Back to the schema before 0006, with requests recorded the old way.
        const down = migrations[name]?.down;
        if (down === undefined) throw new Error(`migration ${name} has no down`);
        await down(store.db);
        await sql`delete from aiservice_migration where name = ${name}`.execute(store.db);
        const old = [
          ["a", "m", "2026-01-01T00:00:05.000Z", 5, 1, 3, 4, 0],
          ["b", "m", "2026-01-01T00:00:59.999Z", 20, 0, 0, 0, 0],
          ["c", "m", "2026-01-01T00:00:30.000Z", 400_000, 1, 0, 0, 1],
          ["d", "m2", "2026-01-01T00:01:00.000Z", 250, 1, 0, 0, 0],
        ] as const;
        for (const [id, model, at, ms, ok, prompt, completion, hit] of old) {
          await sql`insert into model_requests
            (id, model_id, started_at, duration_ms, success, prompt_tokens, completion_tokens, cache_hit)
            values (${id}, ${model}, ${at}, ${ms}, ${ok}, ${prompt}, ${completion}, ${hit})`.execute(
            store.db,
          );
        }
        await store.close();

        const migrated = await open();
        expect(await migrationNames(migrated)).toEqual(Object.keys(migrations).sort());
        const rows = await rollups(migrated);
        expect(rows.map((r) => [r.model_id, r.bucket_start, r.request_count])).toEqual([
          ["m", "2026-01-01T00:00:00.000Z", 3],
          ["m2", "2026-01-01T00:01:00.000Z", 1],
        ]);
        expect(rows[0]).toMatchObject({
          success_count: 2,
          cache_hit_count: 1,
          prompt_tokens_sum: 3,
          completion_tokens_sum: 4,
        });
        expect(histogram(rows[0])).toEqual({
          duration_ms_sum: 400_025,
          duration_le_10ms: 1,
          duration_le_25ms: 1,
          duration_over_300000ms: 1,
        });
        expect(histogram(rows[1])).toEqual({ duration_ms_sum: 250, duration_le_250ms: 1 });
        expect((await migrated.models.performance()).get("m")).toEqual({
          requestCount: 3,
          avgDurationMs: 133_342,
          successRate: 2 / 3,
        });
        const tables = await migrated.db.introspection.getTables();
        expect(tables.map((t) => t.name)).not.toContain("model_requests");
      });
    });

    it("pings, and closes idempotently", async () => {
      const store = await open();
      await expect(store.ping()).resolves.toBeUndefined();
      await Promise.all([store.close(), store.close()]);
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.ping()).rejects.toThrow();
    });

    it("names the migration that failed", async () => {
      const store = await open();
      // Forget that 0001 ran, so reopening tries to create the existing table again.
      await store.db.schema.dropTable("aiservice_migration").execute();
      await store.close();
      await expect(open()).rejects.toThrow(/cannot open .*: migration 0001_api_keys failed: /);
    });

    if (target.dialect === "postgres") {
      it("works inside the schema named in the URL", async () => {
        const store = await open();
        const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
        expect(rows[0]?.schema).toBe(fresh.schema);
        const tables = await store.db.introspection.getTables();
        const ours = tables.filter((table) => table.schema === fresh.schema).map((table) => table.name);
        expect(ours.sort()).toEqual([
          "aiservice_migration",
          "aiservice_migration_lock",
          "api_keys",
          "inference_requests",
          "model_request_rollups",
          "model_states",
          "optimization_calls",
          "optimization_candidates",
          "optimization_results",
        ]);
      });

      it("migrates a schema while another schema of the database is already migrated", async () => {
        const first = await open();
        await first.apiKeys.insert(newKey("in-first"));
        const other = await createTestSchema();
        try {
          const second = await openStore({ ...fresh.options, databaseUrl: other.url });
          opened.push(second);
          expect(await second.apiKeys.list()).toEqual([]);
          expect(await migrationNames(second)).toEqual(Object.keys(migrations).sort());
          await second.close();
        } finally {
          await other.drop();
        }
      });
    }

    if (target.dialect === "sqlite") {
      it("uses WAL, and two stores on one data dir see each other's writes", async () => {
        const server = await open();
        const cli = await open();
        const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(server.db);
        expect(rows[0]?.journal_mode).toBe("wal");

        await cli.apiKeys.insert(newKey("from-cli", ["admin"]));
        expect((await server.apiKeys.findById("from-cli"))?.scopes).toEqual(["admin"]);
        await server.apiKeys.revoke("from-cli");
        expect((await cli.apiKeys.findById("from-cli"))?.revokedAt).not.toBeNull();
      });
    }
  });
}

describe("openStore failures", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!postgres.available)("rejects an unreachable PostgreSQL quickly, password redacted", async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.port = "1";
    url.password = "s3cret-pw";
    const started = Date.now();
    const error = await openStore({ dataDir: dir, databaseUrl: url.toString() }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`PostgreSQL database postgres://${url.username}:***@127.0.0.1:1/`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain("s3cret-pw");
  });

  it("rejects a data dir that cannot be created, naming the file", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "");
    const dataDir = join(file, "data");
    await expect(openStore({ dataDir })).rejects.toThrow(
      `cannot open SQLite database ${join(dataDir, "aiservice.db")}: ENOTDIR`,
    );
  });

  it("rejects a URL that is not PostgreSQL", async () => {
    await expect(openStore({ dataDir: dir, databaseUrl: "mysql://u:pw@host/db" })).rejects.toThrow(
      "cannot open PostgreSQL database mysql://u:***@host/db: the URL must start with postgres://",
    );
  });
});
