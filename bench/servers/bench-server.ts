/**
 * The real server (`startServer` from the compiled packages/server/dist) as a benchmark child:
 * auth required with one API key, rate limits too high to trigger, logs silent, process metrics
 * off, the given models. Sends the key and where the server code came from to the runner.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ConfigInput,
  configSchema,
  createApiKey,
  createLogger,
  type RunningServer,
  startServer,
} from "@aiservice/server";
import { announceReady, stopOnRunnerExit } from "./lifecycle.js";

const UNREACHABLE_LIMIT = 1_000_000_000;

export async function serveBenchServer(models: ConfigInput["models"]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "aiservice-bench-"));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  let server: RunningServer | undefined;
  stopOnRunnerExit(async () => {
    await server?.close();
    removeDataDir();
  });
  try {
    const config = configSchema.parse({
      data_dir: dataDir,
      server: { host: "127.0.0.1", port: 0, shutdown_timeout_ms: 1_000 },
      auth: { required: true },
      rate_limits: {
        window_seconds: 60,
        authenticated: UNREACHABLE_LIMIT,
        inference: UNREACHABLE_LIMIT,
        models: UNREACHABLE_LIMIT,
        batch: UNREACHABLE_LIMIT,
      },
      models,
      logging: { level: "silent" },
    });
    server = await startServer(config, { logger: createLogger("silent"), processMetrics: false, env: {} });
    const { key } = await createApiKey(server.services.store.apiKeys, {
      name: "bench",
      scopes: ["inference"],
    });
    announceReady({
      url: server.url,
      apiKey: key,
      // The runner removes it as well, in case this process dies without cleaning up.
      dataDir,
      serverModule: fileURLToPath(import.meta.resolve("@aiservice/server")),
    });
  } catch (err) {
    removeDataDir();
    throw err;
  }
}
