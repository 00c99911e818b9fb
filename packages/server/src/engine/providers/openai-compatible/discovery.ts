import { isApiError } from "../../../errors.js";
import { upstreamError, upstreamTimeout } from "../../upstream-errors.js";
import { createOpenAIClient, listModels, OPENAI_SDK_ERRORS } from "./client.js";
import { RemoteCaller, retryPolicy, UpstreamCallCancelled } from "../remote/remote-call.js";

export interface DiscoveryOptions {
  /** Bound on the whole listing. Default 5 s: discovery runs at start-up and in admin calls. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000;

/** Model ids an OpenAI-compatible server lists at `GET /v1/models` (base URL as for the provider). */
export async function discoverOpenAICompatibleModels(
  baseUrl: string,
  apiKey?: string,
  options: DiscoveryOptions = {},
): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
  const client = createOpenAIClient({
    baseUrl,
    apiKey,
    connectTimeoutMs: timeoutMs,
    readTimeoutMs: timeoutMs,
  });
  // One retry: a listing is cheap, and start-up should not die on a single reset.
  const caller = new RemoteCaller(retryPolicy(1, { initialMs: 200 }), OPENAI_SDK_ERRORS, {
    provider: "openai-compatible",
    model: "*",
  });
  const signal = options.signal ?? new AbortController().signal;
  try {
    const models = await caller.call(() => listModels(client, signal, timeoutMs), {
      signal,
      responseTimeoutMs: timeoutMs,
    });
    return models.map((m) => m.id);
  } catch (err) {
    if (err instanceof UpstreamCallCancelled) throw signal.reason;
    throw err;
  }
}

/** `localhost:11434` (how OLLAMA_HOST is often written) and `http://localhost:11434/` alike. */
export function ollamaOrigin(host: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  return new URL(withScheme).origin;
}

/**
 * Model names an Ollama server has pulled, from its native `GET /api/tags`. Plain fetch: this
 * is Ollama's own API, not an OpenAI one. Serve them with the openai-compatible provider at
 * `${ollamaOrigin(host)}/v1`.
 */
export async function discoverOllamaModels(host: string, options: DiscoveryOptions = {}): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const details = { provider: "ollama", host: ollamaOrigin(host) };
  let body: unknown;
  try {
    const response = await fetch(`${ollamaOrigin(host)}/api/tags`, { signal });
    if (!response.ok) {
      const text = (await response.text()).slice(0, 200);
      throw upstreamError(`Ollama answered HTTP ${response.status}: ${text}`, {
        ...details,
        status: response.status,
      });
    }
    body = await response.json();
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted)
      throw upstreamTimeout(`Ollama did not list its models within ${timeoutMs} ms`, details, err);
    if (isApiError(err)) throw err;
    throw upstreamError(
      `listing Ollama models failed: ${err instanceof Error ? err.message : String(err)}`,
      details,
      err,
    );
  }
  const models = body !== null && typeof body === "object" && "models" in body ? body.models : undefined;
  if (!Array.isArray(models)) throw upstreamError("Ollama's /api/tags answer has no models list", details);
  return models.flatMap((m: unknown) =>
    m !== null && typeof m === "object" && "name" in m && typeof m.name === "string" ? [m.name] : [],
  );
}
