import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { zodIssues } from "../zod-issues.js";
import { type Config, configSchema } from "./schema.js";

/** A configuration that can't be used; the message names each bad key and what is wrong. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Values from CLI flags: the highest precedence. */
export interface ConfigOverrides {
  host?: string | undefined;
  port?: number | undefined;
  dataDir?: string | undefined;
  configFile?: string | undefined;
}

type Json = Record<string, unknown>;

/** Env vars that set a config key; everything else comes from the file. */
const ENV_KEYS: ReadonlyArray<{ env: string; path: readonly string[]; type: "string" | "port" }> = [
  { env: "AISERVICE_HOST", path: ["server", "host"], type: "string" },
  { env: "AISERVICE_PORT", path: ["server", "port"], type: "port" },
  { env: "AISERVICE_DATA_DIR", path: ["data_dir"], type: "string" },
  { env: "DATABASE_URL", path: ["database_url"], type: "string" },
  { env: "REDIS_URL", path: ["redis_url"], type: "string" },
  { env: "AISERVICE_LOG_LEVEL", path: ["logging", "level"], type: "string" },
  { env: "AISERVICE_JWT_SECRET", path: ["auth", "jwt", "secret"], type: "string" },
  { env: "AISERVICE_CFAPI_PORT", path: ["optimization", "cfapi", "port"], type: "port" },
];

/** XDG data dir: state survives reinstalls and stays out of the repository checkout. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(base, "aiservice");
}

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `config file ${file} is not valid YAML:\n${doc.errors.map((e) => `  ${e.message}`).join("\n")}`,
    );
  }
  const value: unknown = doc.toJS() ?? {};
  if (typeof value !== "object" || Array.isArray(value) || value === null) {
    throw new ConfigError(`config file ${file} must be a YAML mapping at the top level`);
  }
  return value as Json;
}

/**
 * Defaults ← YAML file ← environment ← CLI flags, validated once by the zod schema. The file
 * is `--config` / AISERVICE_CONFIG, else `<data_dir>/config.yaml` when it exists.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDirHint = overrides.dataDir ?? env.AISERVICE_DATA_DIR ?? defaultDataDir(env);
  const explicitFile = overrides.configFile ?? env.AISERVICE_CONFIG;
  const implicitFile = join(dataDirHint, "config.yaml");
  const file = explicitFile ?? (existsSync(implicitFile) ? implicitFile : undefined);

  const raw: Json = file === undefined ? {} : readConfigFile(resolve(file));
  const origin = new Map<string, string>();
  const problems: string[] = [];

  for (const { env: name, path, type } of ENV_KEYS) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    if (type === "port") {
      const port = Number(value);
      if (!Number.isInteger(port)) problems.push(`${name}: expected an integer port, got '${value}'`);
      else setPath(raw, path, port);
    } else {
      setPath(raw, path, value);
    }
    origin.set(path.join("."), `env ${name}`);
  }
  if (overrides.host !== undefined) setPath(raw, ["server", "host"], overrides.host);
  if (overrides.port !== undefined) setPath(raw, ["server", "port"], overrides.port);
  if (overrides.dataDir !== undefined) setPath(raw, ["data_dir"], overrides.dataDir);
  if (raw.data_dir === undefined) raw.data_dir = dataDirHint;
  if (typeof raw.data_dir === "string") raw.data_dir = resolve(raw.data_dir);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of zodIssues(parsed.error)) {
      const from = origin.get(issue.path);
      problems.push(`${issue.path}${from === undefined ? "" : ` (from ${from})`}: ${issue.message}`);
    }
  }
  if (problems.length > 0) {
    const source = file === undefined ? "" : ` (config file ${resolve(file)})`;
    throw new ConfigError(`invalid configuration${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return parsed.data as Config;
}
