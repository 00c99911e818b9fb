import type { Config } from "./schema.js";

const REDACTED = "[redacted]";

/**
 * Replaces a URL's password (in `user:pw@` and in `?password=`), keeping the rest readable
 * for `config print`, logs and error messages.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    return parsed.toString();
  } catch {
    // Unparsable (often an unencoded special character): hide everything between the user
    // name and the last `@`, where a password would be.
    return url.replace(/^([^:/?#]+:\/\/[^:/?#@]*):.*@/, "$1:***@");
  }
}

/** The effective config with every secret hidden: safe to print, paste into an issue, or log. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.database_url !== undefined) copy.database_url = redactUrl(copy.database_url);
  if (copy.redis_url !== undefined) copy.redis_url = redactUrl(copy.redis_url);
  if (copy.auth.jwt?.secret !== undefined) copy.auth.jwt.secret = REDACTED;
  for (const model of copy.models) {
    if (model.provider !== "llama-cpp" && model.api_key !== undefined) model.api_key = REDACTED;
  }
  return copy;
}
