import OpenAI from "openai";
import { fetchWithReadTimeout } from "../remote/read-timeout-fetch.js";
import type { SdkErrorClasses } from "../remote/remote-call.js";

export const OPENAI_SDK_ERRORS: SdkErrorClasses = {
  APIError: OpenAI.APIError,
  APIConnectionError: OpenAI.APIConnectionError,
  APIConnectionTimeoutError: OpenAI.APIConnectionTimeoutError,
  APIUserAbortError: OpenAI.APIUserAbortError,
};

/**
 * `http://host:8000` and `http://host:8000/v1` both mean the same server: a bare origin gets
 * `/v1`; any other path is kept as given (OpenRouter's `/api/v1`, Gemini's `/v1beta/openai`).
 */
export function openAIBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1";
  return url.toString().replace(/\/+$/, "");
}

export interface OpenAIClientSettings {
  baseUrl: string;
  apiKey: string | undefined;
  /** The SDK `timeout`: time until response headers (overridden per request). */
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export function createOpenAIClient(settings: OpenAIClientSettings): OpenAI {
  return new OpenAI({
    baseURL: openAIBaseUrl(settings.baseUrl),
    // Always explicit: otherwise the SDK reads OPENAI_API_KEY / OPENAI_ORG_ID / OPENAI_PROJECT_ID
    // from the environment and would send OpenAI credentials to whatever server this points at.
    apiKey: settings.apiKey ?? "unused",
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: settings.connectTimeoutMs,
    fetch: fetchWithReadTimeout(settings.readTimeoutMs),
    // Every failure surfaces as one typed error that our error handler logs; the SDK's own
    // console logging (e.g. "Could not parse message into JSON") would only duplicate it.
    logLevel: "off",
  });
}

/** A model entry of `/v1/models`, with the context length when the server reports one. */
export interface ListedModel {
  id: string;
  contextLength: number | undefined;
}

/** vLLM says `max_model_len`, OpenRouter `context_length`, others `context_window`. */
function contextLengthOf(entry: object): number | undefined {
  for (const key of ["max_model_len", "context_length", "context_window"]) {
    const value: unknown = (entry as Record<string, unknown>)[key];
    if (typeof value === "number" && value > 0) return value;
  }
  return undefined;
}

export async function listModels(
  client: OpenAI,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<ListedModel[]> {
  const page = await client.models.list({ signal, timeout: timeoutMs });
  const entries: unknown[] = Array.isArray(page.data) ? page.data : [];
  return entries.flatMap((entry) =>
    entry !== null && typeof entry === "object" && "id" in entry && typeof entry.id === "string"
      ? [{ id: entry.id, contextLength: contextLengthOf(entry) }]
      : [],
  );
}
