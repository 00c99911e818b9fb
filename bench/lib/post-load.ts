/**
 * Load generation with a request body (autocannon, from the runner process): the POST twin of
 * `loadRound` in `load.ts`, which also reports how many requests a round completed, so that a
 * server's CPU time can be divided by them.
 */
import autocannon from "autocannon";

export interface PostLoadOptions {
  url: string;
  connections: number;
  seconds: number;
  body: string;
  headers?: Record<string, string>;
}

export interface PostRoundResult {
  requests: number;
  requestsPerSecond: number;
  /** Milliseconds, one per completed request, unsorted (sub-millisecond resolution). */
  latenciesMs: number[];
}

/** One closed-loop round of POSTs. Any error, timeout or non-2xx answer throws. */
export async function postRound(options: PostLoadOptions): Promise<PostRoundResult> {
  const latenciesMs: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    method: "POST",
    body: options.body,
    headers: { "content-type": "application/json", ...options.headers },
  });
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
