import {
  AiserviceClient,
  type AiserviceError,
  DEFAULT_BASE_URL,
  isAiserviceError,
  type LoadModelRequest,
  type Model,
  type ModelStatus,
  waitForModelLoaded,
} from "@aiservice/sdk";
import cliProgress from "cli-progress";
import { type Command, InvalidArgumentError, Option } from "commander";

/** `--url`, `--api-key` and `--json`: every `models` command talks to a running server. */
interface ServerOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
}

interface LoadOptions extends ServerOptions {
  priority: NonNullable<LoadModelRequest["priority"]>;
  timeout?: number;
  force?: boolean;
  wait: boolean;
}

/** Management calls answer quickly; unload may wait for in-flight requests (30 s by default). */
const REQUEST_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 250;
const PRIORITIES = ["high", "normal", "low"] as const;
const STATUSES: readonly ModelStatus[] = ["available", "loading", "loaded", "unloading", "error"];

function withServerOptions(command: Command): Command {
  return command
    .addOption(new Option("--url <url>", "server base URL").env("AISERVICE_URL").default(DEFAULT_BASE_URL))
    .addOption(
      new Option("--api-key <key>", "API key (or JWT) sent as a bearer token").env("AISERVICE_API_KEY"),
    )
    .option("--json", "print JSON");
}

function withLoadOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--priority <priority>", "place in the load queue").choices(PRIORITIES).default("normal"),
    )
    .option("--timeout <seconds>", "cancel the load if it takes longer (server side)", parseSeconds);
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) {
    throw new InvalidArgumentError("expected whole seconds between 1 and 86400");
  }
  return seconds;
}

function clientFrom(options: ServerOptions): AiserviceClient {
  return new AiserviceClient({
    baseUrl: options.url,
    timeoutMs: REQUEST_TIMEOUT_MS,
    ...(options.apiKey === undefined || options.apiKey === "" ? {} : { apiKey: options.apiKey }),
  });
}

/** One line for a failed call: the server's message and code, its suggestion, and what to do next. */
function describeError(error: AiserviceError): string {
  let line = `${error.message.replace(/\.$/, "")} (${error.code}).`;
  if (error.suggestion !== undefined) line += ` ${error.suggestion.replace(/\.?$/, ".")}`;
  if (error.code === "CONNECTION_ERROR") {
    line += " Is the server running? Start it with `aiservice serve`, or point --url (AISERVICE_URL) at it.";
  } else if (error.code === "UNAUTHORIZED") {
    line += " Pass --api-key or set AISERVICE_API_KEY.";
  }
  if (error.retryAfterSeconds !== undefined) line += ` Retry in ${error.retryAfterSeconds} s.`;
  return line;
}

/** Expected failures of a call (unknown model, server down…) print one line and exit 1. */
function reportingErrors<Args extends unknown[]>(action: (...args: Args) => Promise<void>) {
  return async (...args: Args): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      if (!isAiserviceError(error)) throw error;
      process.exitCode = 1;
      console.error(`aiservice: ${describeError(error)}`);
    }
  };
}

function printTable(rows: string[][], rightAligned: ReadonlySet<number>): void {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  for (const row of rows) {
    const cells = row.map((cell, column) => {
      const width = widths[column] ?? 0;
      return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
    });
    console.log(cells.join("  ").trimEnd());
  }
}

function progressText(model: Model): string {
  if (model.status !== "loading") return model.status;
  if (model.progress === null) return "queued";
  return model.progress.percent === null
    ? model.progress.phase
    : `${model.progress.phase} ${model.progress.percent}%`;
}

function statusCell(model: Model): string {
  return model.status === "loading" ? `loading (${progressText(model)})` : model.status;
}

/**
 * Follows a load until the model is loaded: a redrawn bar on a terminal, one line per change
 * of phase or percent otherwise (logs, CI), so the output stays readable in both.
 */
async function waitWithProgress(client: AiserviceClient, id: string): Promise<Model> {
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: `${id} {phase} |{bar}| {percentage}%`, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(100, 0, { phase: "queued" });
  let last = "";
  try {
    const model = await waitForModelLoaded(client, id, {
      intervalMs: POLL_INTERVAL_MS,
      onProgress: (current) => {
        if (current.status !== "loading") return;
        const text = progressText(current);
        if (bar !== undefined) {
          bar.update(current.progress?.percent ?? 0, { phase: current.progress?.phase ?? "queued" });
        } else if (text !== last) {
          console.error(`${id}: ${text}`);
        }
        last = text;
      },
    });
    bar?.update(100, { phase: "loaded" });
    return model;
  } finally {
    bar?.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Requests a load, then (unless told not to wait) follows it and prints the result. */
async function loadModel(id: string, options: LoadOptions, verb: "loaded" | "pulled"): Promise<void> {
  const client = clientFrom(options);
  const started = Date.now();
  const body: LoadModelRequest = {
    priority: options.priority,
    force_reload: options.force === true,
    ...(options.timeout === undefined ? {} : { timeout_seconds: options.timeout }),
  };
  const ticket = await client.models.load(id, body);
  if (ticket.status === "loaded" || !options.wait) {
    if (options.json) {
      console.log(JSON.stringify(ticket));
    } else if (ticket.status === "loaded") {
      console.log(`${id} is already loaded${verb === "loaded" ? " (use --force to reload it)" : ""}`);
    } else {
      console.log(
        `loading ${id}: queue position ${ticket.queue_position}, ` +
          `about ${ticket.estimated_completion_time_seconds} s; follow it with \`aiservice models list\``,
      );
    }
    return;
  }
  const model = await waitWithProgress(client, id);
  if (options.json) {
    console.log(JSON.stringify(model));
  } else {
    console.log(`${verb} ${id}: ${model.memory_usage_mb} MB in ${seconds(Date.now() - started)}`);
  }
}

/** `aiservice models …`: the model registry of a running server, through the SDK. */
export function registerModelsCommands(program: Command): void {
  const models = program
    .command("models")
    .description("List, load, unload and pull models on a running server (--url, env AISERVICE_URL)");

  withServerOptions(
    models
      .command("list")
      .description("List models: status, provider, memory and last use")
      .addOption(new Option("--status <status>", "only models with this status").choices(STATUSES))
      .option("--capability <name>", "only models with this capability (e.g. code_completion)"),
  ).action(
    reportingErrors(async (options: ServerOptions & { status?: ModelStatus; capability?: string }) => {
      const list = await clientFrom(options).models.listAll({
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.capability === undefined ? {} : { capability: options.capability }),
      });
      if (options.json) {
        console.log(JSON.stringify(list));
        return;
      }
      const rows = list.map((m) => [
        m.id,
        statusCell(m),
        m.provider,
        String(m.memory_usage_mb),
        m.last_used ?? "never",
      ]);
      printTable([["ID", "STATUS", "PROVIDER", "MEMORY MB", "LAST USED"], ...rows], new Set([3]));
      for (const m of list) if (m.error !== null) console.log(`${m.id}: last error: ${m.error}`);
    }),
  );

  withLoadOptions(
    withServerOptions(
      models
        .command("load")
        .description("Load a model into memory and show its progress until it is loaded")
        .argument("<id>", "model id from `aiservice models list`")
        .option("--force", "reload even if already loaded")
        .option("--no-wait", "only request the load; do not wait for it"),
    ),
  ).action(reportingErrors((id: string, options: LoadOptions) => loadModel(id, options, "loaded")));

  withServerOptions(
    models
      .command("unload")
      .description("Unload a model (after its in-flight requests) and print the memory freed")
      .argument("<id>", "model id"),
  ).action(
    reportingErrors(async (id: string, options: ServerOptions) => {
      const result = await clientFrom(options).models.unload(id);
      if (options.json) {
        console.log(JSON.stringify(result));
      } else {
        console.log(`unloaded ${id}: freed ${result.memory_freed_mb} MB in ${result.unload_time_ms} ms`);
      }
    }),
  );

  withLoadOptions(
    withServerOptions(
      models
        .command("pull")
        .description(
          "Download a model into the server's model cache if it is not there yet, and load it " +
            "(waits until loaded; there is no download-only mode yet)",
        )
        .argument("<id>", "model id"),
    ),
  ).action(
    reportingErrors((id: string, options: Omit<LoadOptions, "wait" | "force">) =>
      loadModel(id, { ...options, wait: true, force: false }, "pulled"),
    ),
  );
}
