/**
 * A `fetch` with a read (idle) timeout, for the SDKs' `fetch` option.
 *
 * Why not the SDKs' own `timeout`: both `openai` and `@anthropic-ai/sdk` clear their timer as
 * soon as the response headers arrive, so a server that sends headers and then goes silent
 * (a stalled stream, a wedged GPU worker) hangs the caller forever. This wrapper keeps the SDKs
 * (SSE parsing, error types) and adds what they lack: every read of the body must produce a
 * byte within `readTimeoutMs`, otherwise the body errors with `UpstreamReadTimeoutError` and the
 * connection is aborted, so the upstream sees it closed.
 */

/** The response body fell silent for longer than the read timeout. */
export class UpstreamReadTimeoutError extends Error {
  // Not "AbortError": the SDKs silently end a stream on abort errors, and a timeout must surface.
  override readonly name = "UpstreamReadTimeoutError";

  constructor(readonly timeoutMs: number) {
    super(`the upstream sent nothing for ${timeoutMs} ms`);
  }
}

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function withIdleTimeout(
  source: ReadableStream<Uint8Array>,
  timeoutMs: number,
  onTimeout: (error: UpstreamReadTimeoutError) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => {
          timer = setTimeout(resolve, timeoutMs, "timeout");
        });
        try {
          const next = await Promise.race([reader.read(), timedOut]);
          if (next === "timeout") {
            const error = new UpstreamReadTimeoutError(timeoutMs);
            controller.error(error);
            onTimeout(error);
          } else if (next.done) {
            controller.close();
          } else {
            controller.enqueue(next.value);
          }
        } catch (err) {
          controller.error(err);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    // Pull only when the consumer reads, so the timer measures upstream silence, not our backpressure.
    { highWaterMark: 0 },
  );
}

/** Wraps `baseFetch` so every response body obeys `readTimeoutMs` between chunks. */
export function fetchWithReadTimeout(readTimeoutMs: number, baseFetch: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    // Our own controller, linked to the SDK's signal, lets a read timeout close the connection.
    const connection = new AbortController();
    const outer = init?.signal;
    if (outer) {
      if (outer.aborted) connection.abort(outer.reason);
      else outer.addEventListener("abort", () => connection.abort(outer.reason), { once: true });
    }
    const response = await baseFetch(input, { ...init, signal: connection.signal });
    if (response.body === null) return response;
    const body = withIdleTimeout(response.body, readTimeoutMs, (error) => connection.abort(error));
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
