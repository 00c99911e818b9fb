import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Outcome, ReceivedRequest, RouteName } from "./behaviour.js";

/** The record of one request; the server updates `outcome` as the exchange ends. */
export class RecordedRequest implements ReceivedRequest {
  readonly receivedAt = Date.now();
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  readonly ended: Promise<Outcome>;
  private current: Outcome = "pending";
  private resolveEnded!: (outcome: Outcome) => void;

  constructor(
    readonly route: RouteName | "unknown",
    readonly method: string,
    readonly path: string,
    readonly headers: IncomingHttpHeaders,
    readonly rawBody: string,
  ) {
    this.body = parseObject(rawBody);
    this.stream = this.body.stream === true;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  get outcome(): Outcome {
    return this.current;
  }

  get aborted(): boolean {
    return this.current === "client-closed";
  }

  settle(outcome: Exclude<Outcome, "pending">): void {
    if (this.current !== "pending") return;
    this.current = outcome;
    this.resolveEnded(outcome);
  }
}

function parseObject(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * One request/response pair with the helpers behaviours need: sleeps that end early when the
 * connection closes (so a stalled or slow answer never outlives its client or the server), and
 * a deliberate reset that is recorded as the server's doing rather than the client's.
 */
export class Exchange {
  private closed = false;
  private serverReset = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly record: RecordedRequest,
    isServerClosing: () => boolean,
  ) {
    res.on("close", () => {
      this.closed = true;
      for (const wake of this.wakers) wake();
      this.wakers.clear();
      if (res.writableFinished) record.settle("completed");
      else record.settle(this.serverReset || isServerClosing() ? "server-reset" : "client-closed");
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits `ms`, or less when the connection closes first; returns whether it is still open. */
  async sleep(ms: number): Promise<boolean> {
    if (ms > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        this.wakers.add(wake);
      });
    }
    return !this.closed;
  }

  /** Resolves when the connection closes (used by `stall`). */
  async untilClosed(): Promise<void> {
    while (await this.sleep(60_000)) {
      // A stall lasts until the client gives up or the server closes.
    }
  }

  write(chunk: string): boolean {
    if (this.closed) return false;
    this.res.write(chunk);
    return true;
  }

  /** Destroys the socket mid-exchange: the client sees a connection reset / "other side closed". */
  reset(): void {
    this.serverReset = true;
    this.req.socket.destroy();
  }
}
