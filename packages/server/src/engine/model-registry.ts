import { ApiError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { ModelRepository, ModelStatus } from "../store/model-repository.js";
import { type LoadPriority, LoadQueue } from "./load-queue.js";
import type { EngineConfig, ModelEntry } from "./model-config.js";
import { modelNotFound } from "./model-not-found.js";
import type { LoadedModel, LoadProgress, ModelCapabilities, ModelProvider } from "./providers/provider.js";

const MB = 1024 * 1024;
/** Used for a first-load estimate when a model has never been loaded here. */
const ASSUMED_LOAD_BYTES_PER_SECOND = 400 * MB;

/** How often at most a model's last_used is written to the store. */
const LAST_USED_WRITE_MS = 1_000;

export type RegistryEvent =
  | { type: "model_loaded"; modelId: string; memoryMb: number; loadTimeMs: number }
  | { type: "model_unloaded"; modelId: string; memoryFreedMb: number }
  | { type: "error_occurred"; modelId: string; error: string };

export interface ModelRegistryOptions {
  entries: ModelEntry[];
  engine: EngineConfig;
  memoryBudgetBytes: number;
  createProvider: (entry: ModelEntry) => ModelProvider;
  repository: ModelRepository;
  logger: Logger;
  onEvent?: (event: RegistryEvent) => void;
}

export interface LoadRequest {
  priority?: LoadPriority;
  timeoutSeconds?: number;
  forceReload?: boolean;
}

export interface LoadTicket {
  modelId: string;
  status: "loading" | "loaded";
  queuePosition: number;
  estimatedSeconds: number;
  /** Settles when the load ends; already handled, so awaiting it is optional. */
  done: Promise<LoadedModel>;
}

/** A model checked out for one request; `release` must be called exactly once. */
export interface ModelLease {
  model: LoadedModel;
  entry: ModelEntry;
  release(): void;
}

interface Slot {
  entry: ModelEntry;
  provider: ModelProvider;
  status: ModelStatus;
  error: string | null;
  loaded: LoadedModel | undefined;
  memoryBytes: number;
  lastUsed: Date | null;
  inFlight: number;
  loading: Promise<LoadedModel> | undefined;
  abort: AbortController | undefined;
  progress: LoadProgress | undefined;
  loadCount: number;
  totalLoadMs: number;
  idleWaiters: Array<() => void>;
}

export interface ModelView {
  entry: ModelEntry;
  status: ModelStatus;
  error: string | null;
  memoryBytes: number;
  lastUsed: Date | null;
  capabilities: ModelCapabilities | undefined;
  progress: LoadProgress | undefined;
  inFlight: number;
}

/**
 * Owns every model's lifecycle: available → loading → loaded → unloading (+ error), one
 * coalesced load per model, a priority queue of loads, a memory budget enforced by evicting
 * idle models least-recently-used first, and the state mirrored to the store.
 */
export class ModelRegistry {
  private readonly slots = new Map<string, Slot>();
  private readonly queue: LoadQueue;
  private persisting: Promise<void> = Promise.resolve();
  private readonly lastUsedDue = new Set<string>();

  constructor(private readonly options: ModelRegistryOptions) {
    this.queue = new LoadQueue(options.engine.max_concurrent_loads);
    for (const entry of options.entries) this.register(entry);
  }

  /** Restores load statistics and last use from the store; loaded states do not survive a restart. */
  async restore(): Promise<void> {
    await this.options.repository.resetVolatileStates();
    for (const record of await this.options.repository.all()) {
      const slot = this.slots.get(record.id);
      if (slot === undefined) continue;
      slot.loadCount = record.loadCount;
      slot.totalLoadMs = record.totalLoadMs;
      slot.lastUsed = record.lastUsedAt === null ? null : new Date(record.lastUsedAt);
      if (record.status === "error") {
        slot.status = "error";
        slot.error = record.lastError;
      }
    }
  }

  register(entry: ModelEntry): void {
    if (this.slots.has(entry.id)) return;
    this.slots.set(entry.id, {
      entry,
      provider: this.options.createProvider(entry),
      status: "available",
      error: null,
      loaded: undefined,
      memoryBytes: 0,
      lastUsed: null,
      inFlight: 0,
      loading: undefined,
      abort: undefined,
      progress: undefined,
      loadCount: 0,
      totalLoadMs: 0,
      idleWaiters: [],
    });
  }

  ids(): string[] {
    return [...this.slots.keys()];
  }

  list(): ModelView[] {
    return [...this.slots.values()].map((slot) => this.view(slot));
  }

  get(id: string): ModelView {
    return this.view(this.slot(id));
  }

  usedMemoryBytes(): number {
    let total = 0;
    for (const slot of this.slots.values()) total += slot.memoryBytes;
    return total;
  }

  /** Starts (or joins) a load and answers at once with its place in the queue. */
  async requestLoad(id: string, request: LoadRequest = {}): Promise<LoadTicket> {
    const slot = this.slot(id);
    if (slot.status === "loaded" && slot.loaded !== undefined && !request.forceReload) {
      return {
        modelId: id,
        status: "loaded",
        queuePosition: 0,
        estimatedSeconds: 0,
        done: Promise.resolve(slot.loaded),
      };
    }
    if (slot.status === "unloading") {
      throw new ApiError("CONFLICT", `model '${id}' is unloading; load it again once that finished`);
    }
    if (request.forceReload && slot.status === "loaded") await this.unload(id);
    const priority = request.priority ?? "normal";
    let done = slot.loading;
    if (done !== undefined) {
      this.queue.promote(id, priority);
    } else {
      done = this.startLoad(slot, priority, request.timeoutSeconds);
      slot.loading = done;
      // The ticket's promise may never be awaited; the outcome is in the slot's state.
      done.catch(() => undefined);
    }
    // Read before awaiting the estimate: a fast load may already be over by then.
    const queuePosition = this.queue.position(id);
    return {
      modelId: id,
      status: "loading",
      queuePosition,
      estimatedSeconds: await this.estimateSeconds(id),
      done,
    };
  }

  /** Loads and waits; concurrent callers share one load. */
  async load(id: string, request: LoadRequest = {}): Promise<LoadedModel> {
    return (await this.requestLoad(id, request)).done;
  }

  /**
   * Checks a model out for one request, loading it first when allowed. While leased, it is
   * never evicted and an unload waits for it.
   */
  async acquire(id: string): Promise<ModelLease> {
    const slot = this.slot(id);
    if (slot.status !== "loaded" || slot.loaded === undefined) {
      const autoLoad = slot.entry.auto_load ?? this.options.engine.auto_load;
      if (!autoLoad && slot.loading === undefined) {
        throw new ApiError("MODEL_NOT_LOADED", `model '${id}' is not loaded and auto-load is off`, {
          details: { model_id: id, status: slot.status, hint: `POST /v1/ai/models/${id}/load` },
        });
      }
      await this.load(id);
    }
    const model = slot.loaded as LoadedModel;
    slot.inFlight += 1;
    slot.lastUsed = new Date();
    this.persistLastUsed(id);
    let released = false;
    return {
      model,
      entry: slot.entry,
      release: () => {
        if (released) return;
        released = true;
        slot.inFlight -= 1;
        if (slot.inFlight === 0) for (const wake of slot.idleWaiters.splice(0)) wake();
      },
    };
  }

  /** Frees a model's memory once its in-flight requests finished (bounded wait, then 409). */
  async unload(id: string): Promise<{ memoryFreedBytes: number; unloadTimeMs: number }> {
    const slot = this.slot(id);
    const started = performance.now();
    if (slot.loading !== undefined) {
      throw new ApiError("CONFLICT", `model '${id}' is loading; unload it once the load finished`);
    }
    if (slot.status !== "loaded" || slot.loaded === undefined) {
      return { memoryFreedBytes: 0, unloadTimeMs: 0 };
    }
    this.setStatus(slot, "unloading");
    if (slot.inFlight > 0 && !(await this.waitIdle(slot, this.options.engine.unload_wait_seconds * 1000))) {
      this.setStatus(slot, "loaded");
      throw new ApiError("CONFLICT", `model '${id}' still has ${slot.inFlight} request(s) in flight`, {
        details: { in_flight: slot.inFlight, waited_seconds: this.options.engine.unload_wait_seconds },
      });
    }
    const freed = slot.memoryBytes;
    const loaded = slot.loaded;
    slot.loaded = undefined;
    slot.memoryBytes = 0;
    try {
      await loaded.unload();
    } finally {
      this.setStatus(slot, "available", { memoryBytes: 0 });
    }
    this.options.onEvent?.({ type: "model_unloaded", modelId: id, memoryFreedMb: Math.round(freed / MB) });
    return { memoryFreedBytes: freed, unloadTimeMs: Math.round(performance.now() - started) };
  }

  /** Unloads everything (shutdown); errors are logged, not thrown. */
  async close(): Promise<void> {
    for (const slot of this.slots.values()) slot.abort?.abort(new Error("server shutting down"));
    await Promise.allSettled(
      [...this.slots.values()].map(async (slot) => {
        await slot.loading?.catch(() => undefined);
        if (slot.loaded !== undefined) {
          await slot.loaded
            .unload()
            .catch((err: unknown) => this.options.logger.warn({ err }, "unload failed"));
          slot.loaded = undefined;
        }
      }),
    );
    for (const id of [...this.lastUsedDue]) this.writeLastUsed(id);
    await this.persisting;
  }

  /**
   * last_used is written at most once per LAST_USED_WRITE_MS per model (the latest time then):
   * a write per request was a large share of the CPU a proxied request costs, and eviction
   * reads the in-memory time anyway. Pending writes are done at close.
   */
  private persistLastUsed(id: string): void {
    if (this.lastUsedDue.has(id)) return;
    this.lastUsedDue.add(id);
    setTimeout(() => this.writeLastUsed(id), LAST_USED_WRITE_MS).unref();
  }

  private writeLastUsed(id: string): void {
    if (!this.lastUsedDue.delete(id)) return;
    const lastUsed = this.slots.get(id)?.lastUsed;
    if (lastUsed != null) this.persist(id, { lastUsedAt: lastUsed.toISOString() });
  }

  private slot(id: string): Slot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw modelNotFound(id, this.ids());
    return slot;
  }

  private view(slot: Slot): ModelView {
    return {
      entry: slot.entry,
      status: slot.status,
      error: slot.error,
      memoryBytes: slot.memoryBytes,
      lastUsed: slot.lastUsed,
      capabilities: slot.loaded?.capabilities,
      progress: slot.status === "loading" ? slot.progress : undefined,
      inFlight: slot.inFlight,
    };
  }

  private startLoad(
    slot: Slot,
    priority: LoadPriority,
    timeoutSeconds: number | undefined,
  ): Promise<LoadedModel> {
    const id = slot.entry.id;
    const timeoutMs =
      Math.min(timeoutSeconds ?? Number.POSITIVE_INFINITY, this.options.engine.load_timeout_seconds) * 1000;
    const abort = new AbortController();
    slot.abort = abort;
    slot.error = null;
    this.setStatus(slot, "loading", { lastError: null });
    // The timeout covers the wait in the queue too: the caller asked for a model within that time.
    const timer = setTimeout(
      () => abort.abort(new Error(`load timed out after ${timeoutMs / 1000} s`)),
      timeoutMs,
    );

    return new Promise<LoadedModel>((resolve, reject) => {
      const fail = (err: unknown) => {
        const message = abort.signal.aborted
          ? String((abort.signal.reason as Error)?.message ?? "load cancelled")
          : err instanceof Error
            ? err.message
            : String(err);
        // A timed-out or cancelled load goes back to available (with the reason recorded).
        const status: ModelStatus = abort.signal.aborted ? "available" : "error";
        slot.error = message;
        this.setStatus(slot, status, { lastError: message, memoryBytes: 0 });
        this.options.onEvent?.({ type: "error_occurred", modelId: id, error: message });
        reject(
          abort.signal.aborted
            ? new ApiError("UPSTREAM_TIMEOUT", `loading model '${id}' failed: ${message}`, {
                details: { model_id: id },
              })
            : err instanceof ApiError
              ? err
              : new ApiError("UPSTREAM_ERROR", `loading model '${id}' failed: ${message}`, {
                  details: { model_id: id },
                }),
        );
      };
      const cleanUp = () => {
        clearTimeout(timer);
        slot.loading = undefined;
        slot.abort = undefined;
        slot.progress = undefined;
      };
      // Timed out while still waiting for its turn: it never runs, so settle it here.
      abort.signal.addEventListener(
        "abort",
        () => {
          if (this.queue.remove(id)) {
            cleanUp();
            fail(abort.signal.reason);
          }
        },
        { once: true },
      );

      this.queue.enqueue(id, priority, async () => {
        const started = performance.now();
        try {
          if (abort.signal.aborted) throw abort.signal.reason;
          await this.makeRoom(slot);
          const loaded = await this.raceAbort(
            slot.provider.load({ signal: abort.signal, onProgress: (p) => (slot.progress = p) }),
            abort.signal,
          );
          const loadMs = Math.round(performance.now() - started);
          slot.loaded = loaded;
          slot.memoryBytes = loaded.memoryBytes;
          slot.loadCount += 1;
          slot.totalLoadMs += loadMs;
          this.setStatus(slot, "loaded", {
            memoryBytes: loaded.memoryBytes,
            loadCount: slot.loadCount,
            totalLoadMs: slot.totalLoadMs,
          });
          this.options.onEvent?.({
            type: "model_loaded",
            modelId: id,
            memoryMb: Math.round(loaded.memoryBytes / MB),
            loadTimeMs: loadMs,
          });
          resolve(loaded);
        } catch (err) {
          fail(err);
        } finally {
          cleanUp();
        }
      });
    });
  }

  /** A provider that ignores the signal still can't hold the caller past the timeout. */
  private async raceAbort(load: Promise<LoadedModel>, signal: AbortSignal): Promise<LoadedModel> {
    if (signal.aborted) throw signal.reason;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([load, aborted]);
    } catch (err) {
      // If the load still completes later, free what it took.
      load.then((late) => late.unload()).catch(() => undefined);
      throw err;
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    }
  }

  /** Evicts idle loaded models, least recently used first, until the new one fits the budget. */
  private async makeRoom(target: Slot): Promise<void> {
    const needed = (await target.provider.estimateSizeBytes()) ?? 0;
    if (needed === 0) return;
    const budget = this.options.memoryBudgetBytes;
    if (needed > budget) {
      throw new ApiError(
        "INSUFFICIENT_MEMORY",
        `model '${target.entry.id}' needs more memory than the budget allows`,
        {
          details: { needed_mb: Math.ceil(needed / MB), budget_mb: Math.floor(budget / MB) },
        },
      );
    }
    const candidates = [...this.slots.values()]
      .filter((s) => s !== target && s.status === "loaded" && s.inFlight === 0 && s.memoryBytes > 0)
      .sort((a, b) => (a.lastUsed?.getTime() ?? 0) - (b.lastUsed?.getTime() ?? 0));
    while (this.usedMemoryBytes() + needed > budget) {
      const victim = candidates.shift();
      if (victim === undefined) {
        throw new ApiError("INSUFFICIENT_MEMORY", `not enough memory to load '${target.entry.id}'`, {
          details: {
            needed_mb: Math.ceil(needed / MB),
            used_mb: Math.round(this.usedMemoryBytes() / MB),
            budget_mb: Math.floor(budget / MB),
          },
        });
      }
      this.options.logger.info({ evicted: victim.entry.id, for: target.entry.id }, "evicting idle model");
      await this.unload(victim.entry.id);
    }
  }

  private async estimateSeconds(id: string): Promise<number> {
    let seconds = 0;
    for (const key of [...this.queue.ahead(id), id]) {
      const slot = this.slots.get(key);
      if (slot === undefined) continue;
      if (slot.loadCount > 0) {
        seconds += slot.totalLoadMs / slot.loadCount / 1000;
      } else {
        const size = (await slot.provider.estimateSizeBytes().catch(() => undefined)) ?? 0;
        seconds += size / ASSUMED_LOAD_BYTES_PER_SECOND;
      }
    }
    return Math.max(1, Math.ceil(seconds));
  }

  private waitIdle(slot: Slot, timeoutMs: number): Promise<boolean> {
    if (slot.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      slot.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private setStatus(
    slot: Slot,
    status: ModelStatus,
    extra: { memoryBytes?: number; lastError?: string | null; loadCount?: number; totalLoadMs?: number } = {},
  ): void {
    slot.status = status;
    this.persist(slot.entry.id, { status, ...extra });
  }

  /** Writes are chained so the store never sees states out of order; failures are logged. */
  private persist(id: string, fields: Parameters<ModelRepository["save"]>[1]): void {
    this.persisting = this.persisting
      .then(() => this.options.repository.save(id, fields))
      .catch((err: unknown) => this.options.logger.warn({ err, model: id }, "could not persist model state"));
  }
}
