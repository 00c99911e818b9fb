/** Load generation with autocannon, from the runner process, and the statistics of its rounds. */
import autocannon from "autocannon";

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** A JSON body: the round POSTs it (GET without one). */
  body?: string;
}

export interface RoundResult {
  /** Completed requests, so a server's CPU time can be divided by them. */
  requests: number;
  requestsPerSecond: number;
  /** Milliseconds, one per completed request, unsorted. */
  latenciesMs: number[];
}

/**
 * One closed-loop round. Any error, timeout or non-2xx answer throws: a benchmark that counts
 * 401s or 429s as throughput would measure the wrong thing.
 */
export async function loadRound(options: LoadOptions): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.body === undefined
      ? { headers: options.headers ?? {} }
      : {
          method: "POST" as const,
          body: options.body,
          headers: { "content-type": "application/json", ...options.headers },
        }),
  });
  // autocannon's own histogram has 1 ms resolution; keep the raw sub-millisecond times instead.
  instance.on("response", (_client, _status, _bytes, responseTime) => {
    latenciesMs.push(responseTime);
  });
  const result = await instance;
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `load on ${options.url} failed: ${result.errors} errors, ${result.timeouts} timeouts, ` +
        `status counts ${JSON.stringify(result.statusCodeStats)}`,
    );
  }
  if (result.duration <= 0 || result.requests.total === 0)
    throw new Error(`no request completed on ${options.url}`);
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    latenciesMs,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentiles (`q` in 0..1) of one sorted copy of `values`. */
export function percentiles(values: readonly number[], qs: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError("percentiles of nothing");
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

export const formatInt = (n: number): string => Math.round(n).toLocaleString("en-US");
export const formatMs = (n: number): string => `${n.toFixed(2)} ms`;
