/**
 * Concurrent requests on one model share one llama.cpp context, each on its own sequence
 * (node-llama-cpp batches the sequences' tokens together). At most `size` run at once; the rest
 * wait here first-in, first-out until a sequence is released.
 */
import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";

interface Waiter {
  resolve(sequence: LlamaContextSequence): void;
  reject(reason: unknown): void;
}

export class SequencePool {
  /** Most recently released last: the next request reuses the freshest KV cache (shared prefixes). */
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly seats = new Map<LlamaContextSequence, number>();
  private created = 0;
  private active = 0;
  private closedReason: Error | undefined;

  constructor(
    private readonly context: LlamaContext,
    readonly size: number,
  ) {}

  get stats(): { active: number; queued: number; size: number } {
    return { active: this.active, queued: this.waiters.length, size: this.size };
  }

  /**
   * The sequence's id in the context. node-llama-cpp hands out ids 0, 1, 2… in creation order and
   * reuses only those of disposed sequences; the pool creates sequences one by one and never
   * disposes one, so the creation order is the id (which node-llama-cpp does not expose).
   */
  seatOf(sequence: LlamaContextSequence): number {
    return this.seats.get(sequence) ?? 0;
  }

  /** Resolves with a sequence for the caller alone; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<LlamaContextSequence> {
    if (this.closedReason !== undefined) return Promise.reject(this.closedReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ready = this.free.pop() ?? (this.created < this.size ? this.create() : undefined);
    if (ready !== undefined) {
      this.active += 1;
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (sequence) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(sequence);
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Hands the sequence to the longest waiter, or keeps it for the next request. */
  release(sequence: LlamaContextSequence): void {
    if (this.closedReason !== undefined) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(sequence);
      return;
    }
    this.active -= 1;
    this.free.push(sequence);
  }

  /** Rejects everyone still waiting (the model is being unloaded). */
  close(reason: Error): void {
    this.closedReason = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
    this.free.length = 0;
    this.seats.clear();
    this.active = 0;
  }

  private create(): LlamaContextSequence {
    const sequence = this.context.getSequence();
    this.seats.set(sequence, this.created);
    this.created += 1;
    return sequence;
  }
}
