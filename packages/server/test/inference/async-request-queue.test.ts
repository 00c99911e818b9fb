import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type AsyncExecutor, AsyncRequestQueue } from "../../src/inference/async/async-request-queue.js";
import { createLogger } from "../../src/observability/logger.js";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import { createTestSchema, probePostgres } from "../helpers/postgres.js";

const postgres = await probePostgres();
if (!postgres.available) console.warn(`skipping the PostgreSQL async queue tests: ${postgres.reason}`);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqliteStore(): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), "aiservice-queue-"));
  const store = await openStore({ dataDir });
  cleanups.push(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return store;
}

async function postgresStore(): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), "aiservice-queue-"));
  const schema = await createTestSchema();
  const store = await openStore({ dataDir, databaseUrl: schema.url });
  cleanups.push(async () => {
    await store.close();
    await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return store;
}

/** A request row as another process left it: running since `startedAt`. */
async function leaveRunning(store: Store, id: string, startedAt: Date) {
  await store.db
    .insertInto("inference_requests")
    .values({
      id,
      principal_id: "p",
      kind: "echo",
      status: "running",
      body: JSON.stringify({ id }),
      result: null,
      error: null,
      attempts: 1,
      created_at: startedAt.toISOString(),
      started_at: startedAt.toISOString(),
      completed_at: null,
    })
    .execute();
}

/** One replica's queue with a 300 ms stale limit, stopped after the test. */
function replicaQueue(store: Store, echo: AsyncExecutor): AsyncRequestQueue {
  const queue = new AsyncRequestQueue({
    repository: store.inferenceRequests,
    logger: createLogger("silent"),
    singleProcess: false,
    staleAfterMs: 300,
    pollIntervalMs: 20,
  });
  queue.register("echo", echo);
  cleanups.push(() => queue.stop());
  return queue;
}

async function waitForStatus(store: Store, id: string, status: string) {
  const deadline = Date.now() + 5_000;
  while ((await store.inferenceRequests.get(id))?.status !== status) {
    if (Date.now() > deadline) throw new Error(`${id} never became ${status}`);
    await sleep(20);
  }
}

describe.each([
  { dialect: "sqlite", skip: false, open: sqliteStore },
  { dialect: "postgres", skip: !postgres.available, open: postgresStore },
])("async request queue shared by replicas ($dialect)", ({ skip, open }) => {
  it.skipIf(skip)(
    "takes back what a dead replica left running, at start-up and later, never its own work",
    async () => {
      const store = await open();
      const executed: string[] = [];
      const queue = replicaQueue(store, async (body) => {
        const { id } = body as { id: string };
        executed.push(id);
        // Runs longer than the stale limit: the sweeper must not take it from this process.
        if (id === "own") await sleep(700);
        return { id };
      });

      await leaveRunning(store, "long-dead", new Date(Date.now() - 3_600_000));
      await leaveRunning(store, "just-died", new Date());
      await queue.start();
      await waitForStatus(store, "long-dead", "completed");
      // Recent enough to belong to a live replica at start-up; stale a moment later.
      expect((await store.inferenceRequests.get("just-died"))?.status).toBe("running");
      await waitForStatus(store, "just-died", "completed");

      const ownId = "own";
      await store.inferenceRequests.insert({
        id: ownId,
        principalId: "p",
        kind: "echo",
        body: { id: ownId },
      });
      await waitForStatus(store, ownId, "completed");
      expect(executed.filter((id) => id === ownId)).toHaveLength(1);
      expect((await store.inferenceRequests.get(ownId))?.attempts).toBe(1);
    },
  );

  it.skipIf(skip)("leaves a live replica's long request alone: its heartbeat keeps it", async () => {
    const store = await open();
    const runs: string[] = [];
    const replica = (name: string) =>
      replicaQueue(store, async (body) => {
        runs.push(name);
        // Three times the stale limit: only the heartbeat tells the other replica it is alive.
        await sleep(900);
        return body;
      });
    const first = replica("first");
    await first.start();
    await store.inferenceRequests.insert({ id: "long", principalId: "p", kind: "echo", body: { n: 1 } });
    await waitForStatus(store, "long", "running");
    // The second replica starts (and sweeps) while the first is running the request.
    await replica("second").start();
    await waitForStatus(store, "long", "completed");
    expect(runs).toEqual(["first"]);
    const record = await store.inferenceRequests.get("long");
    expect(record?.attempts).toBe(1);
    expect(record?.result).toEqual({ n: 1 });
  });

  it.skipIf(skip)("keeps the later run's outcome when a run that lost its claim finishes", async () => {
    const store = await open();
    await store.inferenceRequests.insert({ id: "r", principalId: "p", kind: "echo", body: {} });
    const firstRun = await store.inferenceRequests.claimNext();
    // Its replica went silent: taken back and claimed again elsewhere.
    expect(await store.inferenceRequests.requeue({ silentSince: new Date(Date.now() + 1_000) })).toBe(1);
    const secondRun = await store.inferenceRequests.claimNext();
    expect([firstRun?.attempts, secondRun?.attempts]).toEqual([1, 2]);
    expect(await store.inferenceRequests.finish("r", 2, { result: "second" })).toBe(true);
    expect(await store.inferenceRequests.finish("r", 1, { result: "first" })).toBe(false);
    expect((await store.inferenceRequests.get("r"))?.result).toBe("second");

    // Taken back but not claimed again: the late answer is still stored, and nobody runs it again.
    await store.inferenceRequests.insert({ id: "q", principalId: "p", kind: "echo", body: {} });
    await store.inferenceRequests.claimNext();
    await store.inferenceRequests.requeue({ silentSince: new Date(Date.now() + 1_000) });
    expect(await store.inferenceRequests.finish("q", 1, { result: "late" })).toBe(true);
    expect(await store.inferenceRequests.claimNext()).toBeUndefined();
  });
});
