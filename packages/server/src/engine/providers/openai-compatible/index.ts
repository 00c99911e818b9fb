export {
  type DiscoveryOptions,
  discoverOllamaModels,
  discoverOpenAICompatibleModels,
  ollamaOrigin,
} from "./discovery.js";
export { OpenAICompatibleModel } from "./model.js";
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_READ_TIMEOUT_MS,
  OpenAICompatibleProvider,
  type OpenAICompatibleProviderOptions,
} from "./provider.js";
export { UpstreamReadTimeoutError } from "../remote/read-timeout-fetch.js";
export { DEFAULT_RETRY_POLICY, type RetryBackoffOptions, type RetryPolicy } from "../remote/remote-call.js";
