import createClient, { type Client } from "openapi-fetch";
import { AiserviceError, CLIENT_ERROR_CODES, errorFromFailure, errorFromResponse } from "./errors.js";
import type { paths } from "./generated/openapi.js";
import type {
  ApiKey,
  CreateApiKeyRequest,
  CreatedApiKey,
  ListModelsParams,
  LivenessStatus,
  LoadModelRequest,
  LoadModelResponse,
  Model,
  ModelPage,
  Principal,
  ReadinessStatus,
  UnloadModelResponse,
} from "./types.js";

/** Where a local aiservice listens by default (also the codeflash client's default). */
export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";
/** Default per-request timeout: generous, like the OpenAI SDK's, so long calls are not cut. */
export const DEFAULT_TIMEOUT_MS = 600_000;

/** How to reach and authenticate to a server. */
export interface AiserviceClientOptions {
  /** Server base URL; default `http://127.0.0.1:8000`. */
  baseUrl?: string;
  /** An API key from `aiservice keys create` (or a JWT), sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** A fetch implementation (tests, proxies, instrumentation); default the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Per-request timeout in ms; default 600 000. `0` or `Infinity` disables it. */
  timeoutMs?: number;
}

/** What an openapi-fetch call resolves to, reduced to what {@link AiserviceClient} needs. */
interface RawResult<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/** `GET/POST/DELETE /v1/ai/keys`: API key management (needs the `admin` scope). */
export interface KeysApi {
  /** Creates a key; the secret (`key`) is in this answer only. */
  create(body: CreateApiKeyRequest): Promise<CreatedApiKey>;
  /** Every key, newest first, never with its secret. */
  list(): Promise<ApiKey[]>;
  /** Revokes a key by its id; answers the key as it is now. */
  revoke(keyId: string): Promise<ApiKey>;
}

/** `/v1/ai/models`: the model registry (listing needs no scope; load/unload need `models:manage`). */
export interface ModelsApi {
  /** One page of models, ordered by id; filter by `status`/`capability`, page with `limit`/`cursor`. */
  list(params?: ListModelsParams): Promise<ModelPage>;
  /** Every model matching the filters, following `next_cursor` across pages. */
  listAll(params?: Omit<ListModelsParams, "cursor">): Promise<Model[]>;
  /** One model; poll it to follow a load (`status`, `progress`). Unknown ids throw MODEL_NOT_FOUND. */
  get(modelId: string): Promise<Model>;
  /**
   * Asks for a load; answers at once with `loading` (queued or started) or `loaded` (already in
   * memory). Use {@link waitForModelLoaded} to wait for the outcome.
   */
  load(modelId: string, body?: LoadModelRequest): Promise<LoadModelResponse>;
  /** Unloads a model once its in-flight requests finish; answers the memory freed. */
  unload(modelId: string): Promise<UnloadModelResponse>;
}

/** `/healthz` and `/readyz`: unauthenticated probes. */
export interface HealthApi {
  /** Liveness: resolves when the process answers. */
  live(): Promise<LivenessStatus>;
  /** Readiness: resolves when the store (and Redis) answer; throws SERVICE_UNAVAILABLE otherwise. */
  ready(): Promise<ReadinessStatus>;
}

/**
 * A typed client for the aiservice `/v1/ai` API and its operations endpoints, built on
 * openapi-fetch with the types generated from the server's OpenAPI document. Every non-2xx
 * answer and every network failure is thrown as an {@link AiserviceError}.
 *
 * @example
 * const client = new AiserviceClient({ apiKey: process.env.AISERVICE_API_KEY });
 * await client.models.load("qwen2.5-coder-1.5b-instruct");
 */
export class AiserviceClient {
  /** The base URL requests go to, without a trailing slash. */
  readonly baseUrl: string;
  /** Per-request timeout in ms (undefined: none). */
  readonly timeoutMs: number | undefined;
  /**
   * The underlying openapi-fetch client, typed by the generated `paths`, for endpoints that have
   * no method here yet. It returns `{data, error, response}` instead of throwing.
   */
  readonly raw: Client<paths>;
  /** API key management. */
  readonly keys: KeysApi;
  /** Model registry: list, inspect, load, unload. */
  readonly models: ModelsApi;
  /** Liveness and readiness probes. */
  readonly health: HealthApi;

  /** Creates a client; no request is made until a method is called. */
  constructor(options: AiserviceClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.timeoutMs = timeoutMs > 0 && Number.isFinite(timeoutMs) ? timeoutMs : undefined;
    this.raw = createClient<paths>({
      baseUrl: this.baseUrl,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` },
    });

    const raw = this.raw;
    const call = this.call.bind(this);
    const path = (modelId: string) => ({ params: { path: { model_id: modelId } } });
    this.keys = {
      create: (body) => call((signal) => raw.POST("/v1/ai/keys", { body, signal })),
      list: async () => (await call((signal) => raw.GET("/v1/ai/keys", { signal }))).keys,
      revoke: (keyId) =>
        call((signal) => raw.DELETE("/v1/ai/keys/{key_id}", { params: { path: { key_id: keyId } }, signal })),
    };
    this.models = {
      list: (params = {}) =>
        call((signal) => raw.GET("/v1/ai/models", { params: { query: params }, signal })),
      listAll: async (params = {}) => {
        const models: Model[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await this.models.list({ ...params, ...(cursor === undefined ? {} : { cursor }) });
          models.push(...page.models);
          if (!page.pagination.has_more || page.pagination.next_cursor === null) return models;
          cursor = page.pagination.next_cursor;
        }
      },
      get: (modelId) => call((signal) => raw.GET("/v1/ai/models/{model_id}", { ...path(modelId), signal })),
      load: (modelId, body = {}) =>
        call((signal) => raw.POST("/v1/ai/models/{model_id}/load", { ...path(modelId), body, signal })),
      unload: (modelId) =>
        call((signal) => raw.POST("/v1/ai/models/{model_id}/unload", { ...path(modelId), signal })),
    };
    this.health = {
      live: () => call((signal) => raw.GET("/healthz", { signal })),
      ready: () => call((signal) => raw.GET("/readyz", { signal })),
    };
  }

  /** The authenticated caller and its scopes: a cheap way to check a key. */
  me(): Promise<Principal> {
    return this.call((signal) => this.raw.GET("/v1/ai/me", { signal }));
  }

  /** Runs one openapi-fetch call with the timeout, and turns every failure into an AiserviceError. */
  private async call<Data>(
    send: (signal: AbortSignal | undefined) => Promise<RawResult<Data>>,
  ): Promise<Data> {
    const signal = this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs);
    let result: RawResult<Data>;
    try {
      result = await send(signal);
    } catch (error) {
      throw errorFromFailure(error, this.baseUrl, this.timeoutMs);
    }
    if (!result.response.ok) throw errorFromResponse(result.response, result.error);
    if (result.data === undefined) {
      throw new AiserviceError({
        code: CLIENT_ERROR_CODES.UNEXPECTED_RESPONSE,
        message: `empty answer from ${result.response.url} (HTTP ${result.response.status})`,
        status: result.response.status,
        requestId: result.response.headers.get("x-request-id") ?? undefined,
      });
    }
    return result.data;
  }
}
