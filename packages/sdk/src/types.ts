/**
 * Names for the generated request and response types. Every type here is an alias into
 * `generated/openapi.ts` (regenerated from the server's zod schemas by `npm run generate`);
 * none is written by hand, so the SDK cannot drift from the server.
 */
import type { components, paths } from "./generated/openapi.js";

/** The generated OpenAPI types themselves: every path and schema, for what has no alias below. */
export type { components, paths } from "./generated/openapi.js";

type Schemas = components["schemas"];

/** The JSON body of the `Status` response of an operation. */
type JsonResponse<Operation, Status extends number> = Operation extends {
  responses: { [S in Status]: { content: { "application/json": infer Body } } };
}
  ? Body
  : never;

/** The JSON request body of an operation. */
type JsonRequest<Operation> = Operation extends {
  requestBody?: { content: { "application/json": infer Body } };
}
  ? Body
  : never;

/** A registered model with its status, memory, measured performance and load progress. */
export type Model = Schemas["Model"];
/** `status` of a model: `available`, `loading`, `loaded`, `unloading` or `error`. */
export type ModelStatus = Model["status"];
/** Progress of a load in flight (`phase` download or load, `percent` when known); null otherwise. */
export type ModelLoadProgress = NonNullable<Model["progress"]>;
/** Query parameters of `GET /v1/ai/models`: `status`, `capability`, `limit`, `cursor`. */
export type ListModelsParams = NonNullable<paths["/v1/ai/models"]["get"]["parameters"]["query"]>;
/** One page of `GET /v1/ai/models`: `models` and `pagination {total_count, has_more, next_cursor}`. */
export type ModelPage = JsonResponse<paths["/v1/ai/models"]["get"], 200>;
/** Body of `POST /v1/ai/models/{model_id}/load`: `priority`, `timeout_seconds`, `force_reload`. */
export type LoadModelRequest = Schemas["LoadModelRequest"];
/** Answer of a load request: queued/started (`loading`) or already `loaded`. */
export type LoadModelResponse = Schemas["LoadModelResponse"];
/** Answer of an unload: `memory_freed_mb` and `unload_time_ms`. */
export type UnloadModelResponse = Schemas["UnloadModelResponse"];

/** The authenticated caller of `GET /v1/ai/me` and its scopes. */
export type Principal = Schemas["Principal"];
/** A permission an API key or token can carry (`inference`, `models:manage`, `admin`, …). */
export type Scope = Principal["scopes"][number];
/** An API key as listed (never with its secret). */
export type ApiKey = Schemas["ApiKey"];
/** A freshly created API key, with its secret `key` (shown only this once). */
export type CreatedApiKey = Schemas["CreatedApiKey"];
/** Body of `POST /v1/ai/keys`: `name`, `scopes`, optional `prefix`. */
export type CreateApiKeyRequest = JsonRequest<paths["/v1/ai/keys"]["post"]>;

/** Body of `GET /healthz`. */
export type LivenessStatus = JsonResponse<paths["/healthz"]["get"], 200>;
/** Body of `GET /readyz`: `status: "ready"` and the result of each dependency check. */
export type ReadinessStatus = JsonResponse<paths["/readyz"]["get"], 200>;

/** The body of every non-2xx answer: `{error: {code, message, details, timestamp, request_id}}`. */
export type ErrorEnvelope = Schemas["ErrorEnvelope"];
