/**
 * Servers under test run in child processes of their own (one core each on a 2-core machine,
 * the load generator on the other). Every child started here is stopped when the runner exits,
 * however it exits; the children also stop themselves when the IPC channel to the runner closes
 * (see `servers/lifecycle.ts`), which covers a runner killed with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** What a server child sends once it listens. */
export interface ReadyMessage {
  type: "ready";
  url: string;
  [key: string]: unknown;
}

export interface ChildServer {
  ready: ReadyMessage;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartChildOptions {
  env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  execArgv?: string[];
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous on purpose: `exit` handlers cannot wait. SIGTERM lets a child clean its data dir.
  process.on("exit", () => {
    for (const child of running) child.kill("SIGTERM");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

function isReadyMessage(message: unknown): message is ReadyMessage {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === "ready" &&
    typeof (message as { url?: unknown }).url === "string"
  );
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => child.once("exit", () => resolvePromise()));
}

/** Starts `script` (TypeScript, through tsx) and resolves with its ready message. */
export async function startChildServer(
  script: string,
  options: StartChildOptions = {},
): Promise<ChildServer> {
  installExitHook();
  const tsx = import.meta.resolve("tsx");
  const child = spawn(process.execPath, [...(options.execArgv ?? []), "--import", tsx, script], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, ...options.env },
  });
  running.add(child);
  child.once("exit", () => running.delete(child));

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited(child);
    clearTimeout(timer);
  };

  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  try {
    const ready = await new Promise<ReadyMessage>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${script} did not report ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited before it was ready (code ${code}, signal ${signal})`));
      });
      child.on("message", (message: unknown) => {
        if (!isReadyMessage(message)) return;
        clearTimeout(timer);
        resolvePromise(message);
      });
    });
    return { ready, pid: child.pid ?? -1, stop };
  } catch (err) {
    await stop(1_000);
    throw err;
  }
}
