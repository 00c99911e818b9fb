/**
 * What `postJson` needs of a caller's cancellation: whether it happened, and a callback when it
 * does (registered and removed without an AbortSignal).
 */
export interface Cancellation {
  readonly aborted: boolean;
  /** Calls `listener` once when the call is aborted (at once if it already was); returns its removal. */
  onAbort(listener: () => void): () => void;
}

/**
 * An AbortController that also calls plain callbacks when it aborts, so that the gateway's hot
 * path (`LoadedModel.passthrough`) never needs the signal. On Node 20, creating an AbortSignal
 * and adding and removing an `abort` listener cost a proxied request ~15–45 µs of CPU at 32
 * connections and ~20 µs of latency at one (bench/README.md "gateway-overhead"). `signal` works
 * as usual, created on first use, for code that wants one.
 */
export class CallAbort extends AbortController implements Cancellation {
  private listeners: (() => void)[] | undefined;
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  onAbort(listener: () => void): () => void {
    if (this.done) {
      listener();
      return () => {};
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const at = this.listeners?.indexOf(listener) ?? -1;
      if (at >= 0) this.listeners?.splice(at, 1);
    };
  }

  override abort(reason?: unknown): void {
    if (this.done) return;
    this.done = true;
    super.abort(reason);
    for (const listener of this.listeners?.splice(0) ?? []) listener();
  }
}
