#!/usr/bin/env node
import { Command } from "commander";
import { registerConfigCommands } from "./commands/config.js";
import { registerKeysCommands } from "./commands/keys.js";
import { registerModelsCommands } from "./commands/models.js";
import { registerServeCommand } from "./commands/serve.js";
import { runAction } from "./run-action.js";

const program = new Command()
  .name("aiservice")
  .description("Self-hostable AI service for code: the codeflash optimization API and the /v1/ai API.")
  .version("0.1.0")
  .showHelpAfterError();

registerServeCommand(program);
registerKeysCommands(program);
registerModelsCommands(program);
registerConfigCommands(program);

await runAction(() => program.parseAsync(process.argv));
