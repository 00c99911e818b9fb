/**
 * Lines up the evaluation steps of the sequences that share one context, so that each llama.cpp
 * decode carries one token of every generating sequence, in sequence order.
 *
 * Why both matter (measured in bench/README.md "parallel-sequences"):
 * - node-llama-cpp decodes whatever tokens are queued when its decode loop looks. Each sequence
 *   samples its token after the decode and only then queues its next one; the loop looks again
 *   in between, so the sequence whose sampling finished last always missed the next batch:
 *   4 sequences decoded in rotating batches of 3.
 * - node-llama-cpp gives every sequence its own KV stream, and llama.cpp then splits a batch into
 *   micro-batches of *consecutive increasing* sequence ids: a batch queued as 2, 0, 1, 3 runs as
 *   {2, 3} and {0, 1}. CPU matrix kernels only switch from matrix-vector to matrix-matrix
 *   products (which read each weight once for 4 rows) at 4 rows, so either problem alone kept
 *   every decode on the one-row kernels.
 *
 * A step therefore starts only when no other step is in flight, and the waiting steps start
 * together, ordered by their sequence's seat (= its id in the context). The release waits for
 * the event loop's check phase: the sequence whose step settled last needs a few ticks to read
 * its token and ask for the next one, and must not be left behind. A sequence whose consumer is
 * slow (a streaming client reading slowly) holds no one up: its step stops counting as in flight
 * when node-llama-cpp returns it, not when the consumer takes it. Only next-token steps come
 * here: a request's prompt, which may take several decodes, starts at once (generation.ts).
 */
export class StepGate {
  private inFlight = 0;
  private waiting: { seat: number; start: () => void }[] = [];
  private releaseScheduled = false;

  /** Runs `evaluate` with the next batch of steps; it counts as in flight until it settles. */
  step<T>(seat: number, evaluate: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.inFlight += 1;
        let running: Promise<T>;
        try {
          running = evaluate();
        } catch (err) {
          running = Promise.reject(err);
        }
        running.then(resolve, reject).finally(() => {
          this.inFlight -= 1;
          this.scheduleRelease();
        });
      };
      this.waiting.push({ seat, start });
      this.scheduleRelease();
    });
  }

  private scheduleRelease(): void {
    if (this.inFlight > 0 || this.waiting.length === 0 || this.releaseScheduled) return;
    this.releaseScheduled = true;
    setImmediate(() => {
      this.releaseScheduled = false;
      if (this.inFlight > 0) return;
      const batch = this.waiting.splice(0).sort((a, b) => a.seat - b.seat);
      for (const { start } of batch) start();
    });
  }
}
