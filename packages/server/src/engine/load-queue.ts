export type LoadPriority = "high" | "normal" | "low";

const RANK: Record<LoadPriority, number> = { high: 0, normal: 1, low: 2 };

interface Job {
  key: string;
  priority: LoadPriority;
  seq: number;
  run: () => Promise<void>;
}

/**
 * Loads waiting for a slot, highest priority first and FIFO within a priority. A job already
 * queued can be promoted when a later request for the same model asks for more urgency.
 */
export class LoadQueue {
  private readonly waiting: Job[] = [];
  private readonly running = new Set<string>();
  private seq = 0;

  constructor(private readonly concurrency: number) {}

  /** 0 when running, else how many loads (running or queued) are ahead of it. */
  position(key: string): number {
    return this.ahead(key).length;
  }

  /** Keys ahead of `key`: the running loads and the queued ones in front of it. */
  ahead(key: string): string[] {
    const index = this.waiting.findIndex((job) => job.key === key);
    if (this.running.has(key) || index < 0) return [];
    return [...this.running, ...this.waiting.slice(0, index).map((job) => job.key)];
  }

  has(key: string): boolean {
    return this.running.has(key) || this.waiting.some((job) => job.key === key);
  }

  enqueue(key: string, priority: LoadPriority, run: () => Promise<void>): void {
    this.waiting.push({ key, priority, seq: this.seq++, run });
    this.sort();
    this.pump();
  }

  promote(key: string, priority: LoadPriority): void {
    const job = this.waiting.find((j) => j.key === key);
    if (job !== undefined && RANK[priority] < RANK[job.priority]) {
      job.priority = priority;
      this.sort();
    }
  }

  /** Drops a job that has not started (its load was cancelled before its turn). */
  remove(key: string): boolean {
    const index = this.waiting.findIndex((job) => job.key === key);
    if (index >= 0) this.waiting.splice(index, 1);
    return index >= 0;
  }

  private sort(): void {
    this.waiting.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.seq - b.seq);
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      this.running.add(job.key);
      void job.run().finally(() => {
        this.running.delete(job.key);
        this.pump();
      });
    }
  }
}
