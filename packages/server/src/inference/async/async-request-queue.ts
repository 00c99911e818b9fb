import { randomUUID } from "node:crypto";
import { ApiError } from "../../errors.js";
import { toApiError } from "../../http/error-envelope.js";
import type { Logger } from "../../observability/logger.js";
import type {
  InferenceRequestRecord,
  InferenceRequestRepository,
} from "../../store/inference-request-repository.js";

export type AsyncExecutor = (body: unknown, signal: AbortSignal) => Promise<unknown>;

export interface AsyncRequestQueueOptions {
  repository: InferenceRequestRepository;
  logger: Logger;
  /** Requests executed at once by this process. */
  concurrency?: number;
  /** How often an idle worker looks for work queued by other replicas. */
  pollIntervalMs?: number;
  /**
   * Running requests whose process has not renewed their heartbeat for this long are taken back
   * (the process died), at start-up and periodically; each process renews its own three times
   * per period. A single-process SQLite deployment takes back all of them at start-up.
   */
  staleAfterMs?: number;
  singleProcess: boolean;
  /**
   * Runs a request may start: one that was interrupted this often (a crash or a shutdown each
   * time, perhaps caused by the request itself) is marked failed instead of run again.
   */
  maxAttempts?: number;
}

/**
 * `options.async` requests: persisted when accepted, executed by a small worker pool, resumed
 * after a restart (a request interrupted by shutdown goes back to the queue), each result stored
 * once; one interrupted `maxAttempts` times is failed with the reason. Executors are registered
 * per kind (completion today).
 */
export class AsyncRequestQueue {
  private readonly executors = new Map<string, AsyncExecutor>();
  private readonly running = new Map<string, AbortController>();
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = true;
  private pumping = false;

  constructor(private readonly options: AsyncRequestQueueOptions) {
    this.concurrency = options.concurrency ?? 2;
  }

  register(kind: string, executor: AsyncExecutor): void {
    this.executors.set(kind, executor);
  }

  async submit(principalId: string, kind: string, body: unknown): Promise<string> {
    const id = `req_${randomUUID().replaceAll("-", "")}`;
    await this.options.repository.insert({ id, principalId, kind, body });
    this.pump();
    return id;
  }

  /** The request as its owner may see it; anyone else gets the same 404 as for a missing id. */
  async get(id: string, principalId: string): Promise<InferenceRequestRecord> {
    const record = await this.options.repository.get(id);
    if (record === undefined || record.principalId !== principalId) {
      throw new ApiError("NOT_FOUND", `no inference request with id '${id}'`, {
        details: { request_id: id },
      });
    }
    return record;
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Alone on its database (SQLite), every running request was interrupted. With replicas
    // sharing one, only requests whose replica stopped renewing their heartbeat are taken back,
    // at start-up and then periodically, so a crashed replica's work does not wait for a restart
    // and a live replica's long request is never run twice.
    const resumed = await this.options.repository.requeue(
      this.options.singleProcess ? {} : { silentSince: this.staleBefore() },
    );
    if (resumed > 0) this.options.logger.info({ resumed }, "resuming interrupted async inference requests");
    this.timer = setInterval(() => this.pump(), this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
    if (!this.options.singleProcess) {
      this.sweeper = setInterval(() => void this.takeBackStale(), Math.min(this.staleAfterMs() / 2, 60_000));
      this.sweeper.unref();
      this.heartbeat = setInterval(() => void this.renewHeartbeats(), this.staleAfterMs() / 3);
      this.heartbeat.unref();
    }
    this.pump();
  }

  /** Stops taking work; requests in flight are cancelled and queued again for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.sweeper);
    clearInterval(this.heartbeat);
    const ids = [...this.running.keys()];
    for (const controller of this.running.values()) controller.abort(new Error("server shutting down"));
    await this.options.repository.requeue({ ids });
  }

  private staleAfterMs(): number {
    return this.options.staleAfterMs ?? 10 * 60_000;
  }

  private staleBefore(): Date {
    return new Date(Date.now() - this.staleAfterMs());
  }

  private async takeBackStale(): Promise<void> {
    try {
      const taken = await this.options.repository.requeue({
        silentSince: this.staleBefore(),
        exceptIds: [...this.running.keys()],
      });
      if (taken > 0) {
        this.options.logger.warn({ taken }, "took back async inference requests a replica left running");
        this.pump();
      }
    } catch (err) {
      this.options.logger.warn({ err }, "could not look for stale async inference requests");
    }
  }

  private async renewHeartbeats(): Promise<void> {
    try {
      await this.options.repository.heartbeat([...this.running.keys()]);
    } catch (err) {
      this.options.logger.warn({ err }, "could not renew the heartbeat of running async inference requests");
    }
  }

  private pump(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    void this.fill().finally(() => {
      this.pumping = false;
    });
  }

  private async fill(): Promise<void> {
    while (!this.stopped && this.running.size < this.concurrency) {
      const record = await this.options.repository.claimNext().catch((err: unknown) => {
        this.options.logger.warn({ err }, "could not claim an async inference request");
        return undefined;
      });
      if (record === undefined) return;
      const controller = new AbortController();
      this.running.set(record.id, controller);
      void this.execute(record, controller).finally(() => {
        this.running.delete(record.id);
        this.pump();
      });
    }
  }

  private async execute(record: InferenceRequestRecord, controller: AbortController): Promise<void> {
    const executor = this.executors.get(record.kind);
    const maxAttempts = this.options.maxAttempts ?? 3;
    try {
      if (executor === undefined)
        throw new ApiError("INTERNAL_ERROR", `this server cannot run '${record.kind}' requests`);
      if (record.attempts > maxAttempts) {
        throw new ApiError(
          "INTERNAL_ERROR",
          `the request was interrupted ${record.attempts - 1} times (server restarts) and is not run again`,
          { details: { attempts: record.attempts - 1 } },
        );
      }
      const result = await executor(record.body, controller.signal);
      if (controller.signal.aborted) return; // shutdown: stop() queued it again
      await this.store(record, { result });
    } catch (err) {
      if (controller.signal.aborted && this.stopped) return;
      const apiError =
        toApiError(err) ?? new ApiError("INTERNAL_ERROR", "internal error while executing the request");
      if (toApiError(err) === undefined)
        this.options.logger.error({ err, request_id: record.id }, "async request failed");
      await this.store(record, {
        error: { code: apiError.code, message: apiError.message, details: apiError.details },
      }).catch((e: unknown) => this.options.logger.error({ err: e }, "could not record an async failure"));
    }
  }

  private async store(
    record: InferenceRequestRecord,
    outcome: { result: unknown } | { error: unknown },
  ): Promise<void> {
    const stored = await this.options.repository.finish(record.id, record.attempts, outcome);
    if (!stored) {
      this.options.logger.warn(
        { request_id: record.id, attempt: record.attempts },
        "an async inference request was taken back while it ran here; its later run's outcome counts",
      );
    }
  }
}
