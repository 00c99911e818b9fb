import { type Config, loadConfig } from "@aiservice/server";
import { type Command, InvalidArgumentError } from "commander";

export interface CommonOptions {
  config?: string;
  dataDir?: string;
}

/** `--config` and `--data-dir`, accepted by every command that reads config or the store. */
export function withCommonOptions(command: Command): Command {
  return command
    .option("--config <file>", "YAML config file (env AISERVICE_CONFIG)")
    .option("--data-dir <dir>", "data directory for SQLite and model caches (env AISERVICE_DATA_DIR)");
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("expected a port number between 0 and 65535");
  }
  return port;
}

export function configFrom(options: CommonOptions & { host?: string; port?: number }): Config {
  return loadConfig({
    configFile: options.config,
    dataDir: options.dataDir,
    host: options.host,
    port: options.port,
  });
}
