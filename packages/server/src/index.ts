export {
  type ApiKeyCreateInput,
  type CreatedApiKey,
  createApiKey,
  revokeApiKey,
} from "./auth/api-key-service.js";
export { SCOPES, type Scope } from "./auth/principal.js";
export { ConfigError, type ConfigOverrides, defaultDataDir, loadConfig } from "./config/load-config.js";
export { redactConfig } from "./config/redact-config.js";
export { type Config, type ConfigInput, configSchema } from "./config/schema.js";
export { ApiError, type ErrorCode } from "./errors.js";
export { buildApp } from "./http/app.js";
export { createLogger, type Logger } from "./observability/logger.js";
export {
  assertSafeBinding,
  isLoopbackHost,
  type RunningServer,
  type StartOptions,
  startServer,
} from "./server.js";
export { openStore } from "./store/open-store.js";
export type { ApiKeyRecord, Store } from "./store/store.js";
export { zodIssues } from "./zod-issues.js";
