/**
 * CPython's own `compile()` as a syntax checker: one long-lived `python3` process, spawned on
 * first use, speaking line-delimited JSON over stdin/stdout. Requests carry ids, so callers may
 * send many at once; the process answers them in turn. A process that dies (or hangs past a
 * request's timeout and is killed) is replaced on the next request, and requests still waiting
 * on it are sent once more to the replacement. The process holds the event loop only while
 * requests are pending, exits on its own when stdin closes, and `close()` kills and reaps it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { SyntaxDiagnostic } from "./syntax-result.js";

// compile() parses and builds the symbol table (so `return` outside a function fails too) but
// never runs the code. Warnings (invalid escapes) are not errors and must not reach stderr.
const WORKER_SOURCE = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")

def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

send({"ready": True, "version": sys.version.split()[0]})
while True:
    line = sys.stdin.buffer.readline()
    if not line:
        break
    try:
        request = json.loads(line)
        rid = request["id"]
    except Exception:
        continue
    try:
        compile(request["source"], request.get("filename") or "<snippet>", "exec", dont_inherit=True)
        send({"id": rid, "ok": True, "errors": []})
    except SyntaxError as error:
        send({"id": rid, "ok": False, "errors": [{
            "line": error.lineno or 1,
            "column": error.offset or 1,
            "message": type(error).__name__ + ": " + str(error.msg),
        }]})
    except Exception as error:
        send({"id": rid, "ok": False, "errors": [{
            "line": 1, "column": 1, "message": type(error).__name__ + ": " + str(error),
        }]})
`;

export interface PythonCompileResult {
  ok: boolean;
  errors: SyntaxDiagnostic[];
}

export interface PythonWorkerOptions {
  /** The interpreter to run; default `python3`. */
  python?: string;
  /** How long one request may take before the process is deemed stuck; default 10 s. */
  timeoutMs?: number;
}

/** No usable interpreter: the executable is missing or the worker cannot start. */
export class PythonUnavailableError extends Error {
  override readonly name = "PythonUnavailableError";
}

/** The worker died or timed out while answering a request. */
export class PythonWorkerError extends Error {
  override readonly name = "PythonWorkerError";
}

interface PendingRequest {
  id: number;
  line: string;
  attempts: number;
  timer?: NodeJS.Timeout;
  resolve: (result: PythonCompileResult) => void;
  reject: (error: Error) => void;
}

interface WorkerMessage {
  id?: number;
  ready?: boolean;
  version?: string;
  ok?: boolean;
  errors?: SyntaxDiagnostic[];
}

const MAX_ATTEMPTS = 2;

export class PythonCompileWorker {
  private readonly python: string;
  private readonly timeoutMs: number;
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private stdoutBuffer = "";
  private stderrTail = "";
  private unavailable: Error | undefined;
  private pythonVersion: string | undefined;

  constructor(options: PythonWorkerOptions = {}) {
    this.python = options.python ?? "python3";
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The running process's id, if one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The interpreter's version (`3.11.4`), once a process has started. */
  get version(): string | undefined {
    return this.pythonVersion;
  }

  /** Compiles `source` as a module; rejects only when the worker itself fails. */
  compile(source: string, filename = "<snippet>"): Promise<PythonCompileResult> {
    if (this.unavailable) return Promise.reject(this.unavailable);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const line = `${JSON.stringify({ id, source, filename })}\n`;
      const request: PendingRequest = { id, line, attempts: 0, resolve, reject };
      this.pending.set(id, request);
      this.send(request);
    });
  }

  /** Kills the process, waits until it is reaped, and fails what was still pending. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    for (const request of this.pending.values()) this.settle(request, new PythonWorkerError("worker closed"));
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  private send(request: PendingRequest): void {
    const child = this.child ?? this.start();
    request.attempts += 1;
    clearTimeout(request.timer);
    request.timer = setTimeout(() => this.timeOut(request, child), this.timeoutMs);
    this.hold(child, true);
    child.stdin?.write(request.line);
  }

  private start(): ChildProcess {
    const child = spawn(this.python, ["-I", "-u", "-c", WORKER_SOURCE], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.stdoutBuffer = "";
    this.stderrTail = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => this.receive(child, chunk));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    // A write racing the process's death fails with EPIPE; the exit handler deals with it.
    child.stdin?.on("error", () => undefined);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "EACCES") {
        this.unavailable = new PythonUnavailableError(`${this.python} is not available: ${error.message}`);
      }
      this.retire(child, error.message);
    });
    child.on("exit", (code, signal) => this.retire(child, `exited with ${signal ?? `code ${code}`}`));
    return child;
  }

  private receive(child: ChildProcess, chunk: string): void {
    this.stdoutBuffer += chunk;
    let newline = this.stdoutBuffer.indexOf("\n");
    while (newline !== -1) {
      const line = this.stdoutBuffer.slice(0, newline);
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      this.handle(line);
      newline = this.stdoutBuffer.indexOf("\n");
    }
    if (this.pending.size === 0) this.hold(child, false);
  }

  private handle(line: string): void {
    let message: WorkerMessage;
    try {
      message = JSON.parse(line) as WorkerMessage;
    } catch {
      return;
    }
    if (message.ready === true) {
      this.pythonVersion = message.version;
      return;
    }
    const request = message.id === undefined ? undefined : this.pending.get(message.id);
    if (request === undefined) return;
    this.settle(request, { ok: message.ok === true, errors: message.errors ?? [] });
  }

  private timeOut(request: PendingRequest, child: ChildProcess): void {
    this.settle(request, new PythonWorkerError(`python compile() took longer than ${this.timeoutMs} ms`));
    // The process is busy with this request and everything behind it waits; replace it.
    if (this.child === child) child.kill("SIGKILL");
  }

  /** The process is gone: forget it and hand its waiting requests to a fresh one, once. */
  private retire(child: ChildProcess, reason: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    const waiting = [...this.pending.values()];
    for (const request of waiting) {
      if (this.unavailable) this.settle(request, this.unavailable);
      else if (request.attempts >= MAX_ATTEMPTS) {
        const detail = this.stderrTail.trim();
        this.settle(request, new PythonWorkerError(`python worker ${reason}${detail ? `: ${detail}` : ""}`));
      }
    }
    for (const request of this.pending.values()) this.send(request);
  }

  private settle(request: PendingRequest, outcome: PythonCompileResult | Error): void {
    if (!this.pending.delete(request.id)) return;
    clearTimeout(request.timer);
    if (outcome instanceof Error) request.reject(outcome);
    else request.resolve(outcome);
  }

  /** Keeps the event loop alive for the process only while it has work. */
  private hold(child: ChildProcess, held: boolean): void {
    const handles = [child, child.stdin, child.stdout, child.stderr] as const;
    for (const handle of handles) {
      const refable = handle as { ref?: () => void; unref?: () => void } | null;
      if (held) refable?.ref?.();
      else refable?.unref?.();
    }
  }
}
