/**
 * @aiservice/sdk: a typed TypeScript client for the aiservice HTTP API. Request and response
 * types are generated from the server's OpenAPI document (`npm run generate`).
 */
export {
  AiserviceClient,
  type AiserviceClientOptions,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  type HealthApi,
  type KeysApi,
  type ModelsApi,
} from "./client.js";
export { AiserviceError, type AiserviceErrorInit, CLIENT_ERROR_CODES, isAiserviceError } from "./errors.js";
export type * from "./types.js";
export { DEFAULT_POLL_INTERVAL_MS, type WaitForModelOptions, waitForModelLoaded } from "./wait-for-model.js";
