import { startServer } from "@aiservice/server";
import type { Command } from "commander";
import { type CommonOptions, configFrom, parsePort, withCommonOptions } from "./common-options.js";

export function registerServeCommand(program: Command): void {
  withCommonOptions(
    program
      .command("serve")
      .description("Run the HTTP server (default 127.0.0.1:8000)")
      .option("--host <host>", "address to bind (env AISERVICE_HOST)")
      .option("--port <port>", "port to listen on, 0 for any free port (env AISERVICE_PORT)", parsePort),
  ).action(async (options: CommonOptions & { host?: string; port?: number }) => {
    const config = configFrom(options);
    const server = await startServer(config);
    console.error(`aiservice listening on ${server.url} (docs: ${server.url}/docs)`);

    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals += 1;
      // A second Ctrl-C means "now": skip the drain.
      if (signals > 1) process.exit(130);
      server.services.logger.info({ signal }, "signal received");
      server.close().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error("aiservice: error during shutdown:", err);
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
