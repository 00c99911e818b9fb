import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { engineSchema, type ModelEntry } from "../../src/engine/model-config.js";
import { ModelRegistry, type ModelRegistryOptions } from "../../src/engine/model-registry.js";
import { ModelRunner } from "../../src/engine/model-runner.js";
import { ApiError } from "../../src/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import { FakeProvider, type FakeProviderOptions } from "../helpers/fake-provider.js";

const MB = 1024 * 1024;
let dir: string;
let store: Store;
let journal: string[];
let providers: Map<string, FakeProvider>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "aiservice-registry-"));
  store = await openStore({ dataDir: dir });
  journal = [];
  providers = new Map();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function entry(id: string): ModelEntry {
  return { id, provider: "llama-cpp", source: `/models/${id}.gguf` };
}

function registry(
  models: Record<string, FakeProviderOptions>,
  overrides: Partial<Omit<ModelRegistryOptions, "engine">> & { engine?: Record<string, unknown> } = {},
): ModelRegistry {
  return new ModelRegistry({
    entries: Object.keys(models).map(entry),
    memoryBudgetBytes: 1024 * MB,
    repository: store.models,
    logger: createLogger("silent"),
    ...overrides,
    engine: engineSchema.parse(overrides.engine ?? {}),
    createProvider: (e) => {
      const provider = new FakeProvider(e.id, models[e.id], journal);
      providers.set(e.id, provider);
      return provider;
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected a rejection");
}

describe("ModelRegistry", () => {
  it("runs queued loads by priority, FIFO within a priority", async () => {
    const reg = registry({ blocker: { loadMs: 100 }, low: {}, normal1: {}, high: {}, normal2: {} });
    const blocker = await reg.requestLoad("blocker");
    expect(blocker.queuePosition).toBe(0);
    const low = await reg.requestLoad("low", { priority: "low" });
    const n1 = await reg.requestLoad("normal1");
    const high = await reg.requestLoad("high", { priority: "high" });
    const n2 = await reg.requestLoad("normal2");
    expect(low.queuePosition).toBe(1);
    expect(high.queuePosition).toBe(1);
    await Promise.all([blocker.done, low.done, n1.done, high.done, n2.done]);
    expect(journal).toEqual(["load:blocker", "load:high", "load:normal1", "load:normal2", "load:low"]);
  });

  it("coalesces concurrent loads of one model into one", async () => {
    const reg = registry({ m: { loadMs: 50 } });
    const models = await Promise.all(Array.from({ length: 5 }, () => reg.load("m")));
    expect(providers.get("m")?.loads).toBe(1);
    expect(new Set(models).size).toBe(1);
    expect(reg.get("m").status).toBe("loaded");
    // Loaded without force_reload: answered at once, no second load.
    const again = await reg.requestLoad("m");
    expect(again.status).toBe("loaded");
    await reg.requestLoad("m", { forceReload: true }).then((t) => t.done);
    expect(providers.get("m")?.loads).toBe(2);
  });

  it("evicts idle models least-recently-used first to fit the budget", async () => {
    const reg = registry(
      { a: { sizeBytes: 40 * MB }, b: { sizeBytes: 40 * MB }, c: { sizeBytes: 40 * MB } },
      { memoryBudgetBytes: 100 * MB },
    );
    await reg.load("a");
    await reg.load("b");
    (await reg.acquire("a")).release(); // a is now more recent than b
    await reg.load("c");
    expect(reg.get("b").status).toBe("available");
    expect(reg.get("a").status).toBe("loaded");
    expect(reg.get("c").status).toBe("loaded");
    expect(reg.usedMemoryBytes()).toBe(80 * MB);
    expect(providers.get("b")?.unloads).toBe(1);
  });

  it("never evicts a model in use: the load fails with 507 instead", async () => {
    const reg = registry(
      { a: { sizeBytes: 60 * MB }, b: { sizeBytes: 60 * MB } },
      { memoryBudgetBytes: 100 * MB },
    );
    const lease = await reg.acquire("a");
    const error = await rejection(reg.load("b"));
    expect(error.code).toBe("INSUFFICIENT_MEMORY");
    expect(error.status).toBe(507);
    expect(reg.get("a").status).toBe("loaded");
    expect(reg.get("b").status).toBe("error");
    lease.release();
    await reg.load("b");
    expect(reg.get("a").status).toBe("available");
  });

  it("cancels a load past timeout_seconds and records why", async () => {
    const reg = registry({ slow: { loadMs: 5_000 } });
    const started = performance.now();
    const error = await rejection(reg.load("slow", { timeoutSeconds: 1 }));
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error.code).toBe("UPSTREAM_TIMEOUT");
    expect(providers.get("slow")?.lastSignal?.aborted).toBe(true);
    const view = reg.get("slow");
    expect(view.status).toBe("available");
    expect(view.error).toMatch(/timed out after 1 s/);
  });

  it("a load that times out while queued settles too, and a runtime ignoring abort can't hold it", async () => {
    const reg = registry({ stubborn: { loadMs: 3_000, ignoreAbort: true }, queued: {} });
    const first = reg.load("stubborn", { timeoutSeconds: 1 });
    const second = reg.load("queued", { timeoutSeconds: 1 });
    const [a, b] = await Promise.all([rejection(first), rejection(second)]);
    expect(a.code).toBe("UPSTREAM_TIMEOUT");
    expect(b.code).toBe("UPSTREAM_TIMEOUT");
    expect(reg.get("queued").status).toBe("available");
  });

  it("unload waits for in-flight requests, or answers 409 after the bound", async () => {
    const reg = registry({ m: { sizeBytes: 10 * MB } });
    const lease = await reg.acquire("m");
    let unloaded = false;
    const unloading = reg.unload("m").then((r) => {
      unloaded = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(unloaded).toBe(false);
    expect(reg.get("m").status).toBe("unloading");
    lease.release();
    expect((await unloading).memoryFreedBytes).toBe(10 * MB);
    expect(reg.get("m").status).toBe("available");

    const strict = registry({ n: {} }, { engine: { unload_wait_seconds: 0 } });
    const held = await strict.acquire("n");
    expect((await rejection(strict.unload("n"))).code).toBe("CONFLICT");
    expect(strict.get("n").status).toBe("loaded");
    held.release();
  });

  it("unknown ids get MODEL_NOT_FOUND with the nearest id", async () => {
    const reg = registry({ "codellama-7b": {}, "starcoder-3b": {} });
    const error = await rejection(reg.acquire("codellama-13b"));
    expect(error.status).toBe(404);
    expect(error.details).toEqual({
      available_models: ["codellama-7b", "starcoder-3b"],
      suggestion: "Use 'codellama-7b' instead",
    });
  });

  it("auto-loads on first use unless disabled", async () => {
    const auto = registry({ m: {} });
    const lease = await auto.acquire("m");
    expect((await lease.model.generate({ input: { kind: "completion", prompt: "x" } })).text).toBe(
      "hello from m",
    );
    lease.release();
    const manual = registry({ m: {} }, { engine: { auto_load: false } });
    const error = await rejection(manual.acquire("m"));
    expect(error.code).toBe("MODEL_NOT_LOADED");
    expect(error.status).toBe(409);
  });

  it("persists state and load statistics; a restart resets what was in memory", async () => {
    const reg = registry({ m: { sizeBytes: 5 * MB, loadMs: 20 } });
    await reg.load("m");
    (await reg.acquire("m")).release();
    await reg.close();
    const saved = (await store.models.all()).find((r) => r.id === "m");
    expect(saved).toMatchObject({ status: "loaded", memoryBytes: 5 * MB, loadCount: 1 });
    expect(saved?.totalLoadMs).toBeGreaterThanOrEqual(15);
    expect(saved?.lastUsedAt).not.toBeNull();

    const next = registry({ m: { sizeBytes: 5 * MB } });
    await next.restore();
    expect(next.get("m").status).toBe("available");
    expect(next.get("m").lastUsed).not.toBeNull();
    const ticket = await next.requestLoad("m");
    expect(ticket.estimatedSeconds).toBeGreaterThanOrEqual(1);
    await ticket.done;
  });

  it("a failing load is state `error` with the detail, and can be retried", async () => {
    const reg = registry({ bad: { fail: new Error("file is not a GGUF model") } });
    const error = await rejection(reg.load("bad"));
    expect(error.code).toBe("UPSTREAM_ERROR");
    expect(reg.get("bad")).toMatchObject({ status: "error", error: "file is not a GGUF model" });
  });
});

describe("ModelRunner's request metrics", () => {
  it("a store that cannot take them logs one warning per failed write, not one per request", async () => {
    const warnings: string[] = [];
    const logger = createLogger("warn", { write: (line: string) => void warnings.push(line) });
    const runner = new ModelRunner(registry({ m: {} }), store.models, logger);
    await sql`alter table model_request_rollups rename to rollups_away`.execute(store.db);
    for (let i = 0; i < 3; i++) await runner.generate("m", { input: { kind: "completion", prompt: "x" } });
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 2_000 });
    expect(warnings[0]).toContain("could not record model requests");
    // The three requests are kept for the next write, which finds the table back.
    await sql`alter table rollups_away rename to model_request_rollups`.execute(store.db);
    expect((await store.models.performance()).get("m")?.requestCount).toBe(3);
    expect(warnings).toHaveLength(1);
  });
});
