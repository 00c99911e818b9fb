import { redactConfig } from "@aiservice/server";
import type { Command } from "commander";
import { stringify } from "yaml";
import { type CommonOptions, configFrom, withCommonOptions } from "./common-options.js";

export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description("Inspect the configuration");
  withCommonOptions(
    config
      .command("print")
      .description("Print the effective configuration, secrets redacted")
      .option("--json", "print JSON"),
  ).action((options: CommonOptions & { json?: boolean }) => {
    const effective = redactConfig(configFrom(options));
    process.stdout.write(options.json ? `${JSON.stringify(effective, null, 2)}\n` : stringify(effective));
  });
}
