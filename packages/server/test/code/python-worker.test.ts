import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PythonCompileWorker, PythonUnavailableError, PythonWorkerError } from "../../src/code/index.js";

function isAlive(pid: number): boolean {
  try {
    // Succeeds for a zombie too, so a false here also means the process was reaped.
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100 && isAlive(pid); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const workers: PythonCompileWorker[] = [];
function worker(options?: ConstructorParameters<typeof PythonCompileWorker>[0]): PythonCompileWorker {
  const created = new PythonCompileWorker(options);
  workers.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((created) => created.close()));
});

describe("PythonCompileWorker", () => {
  // First, while no other test has left pipes closing in the background.
  it("holds the event loop only while requests are pending", async () => {
    const handles = (): string[] =>
      process
        .getActiveResourcesInfo()
        .filter((resource) => resource === "ProcessWrap" || resource === "PipeWrap");
    const before = handles().length;
    const python = worker();
    const pending = python.compile("x = 1\n");
    expect(handles().length).toBeGreaterThan(before);
    await pending;
    // Still running, but an idle worker must not keep a finished server process alive.
    expect(python.pid).toBeDefined();
    expect(handles().length).toBe(before);
  });

  it("starts lazily and answers concurrent requests by id from one process", async () => {
    const python = worker();
    expect(python.pid).toBeUndefined();
    const sources = Array.from({ length: 40 }, (_, index) =>
      index % 3 === 0 ? `def f${index}(:\n` : `def f${index}(a):\n    return a + ${index}\n`,
    );
    const pending = sources.map((source) => python.compile(source));
    const pid = python.pid;
    expect(pid).toBeDefined();
    const results = await Promise.all(pending);
    results.forEach((result, index) => expect(result.ok).toBe(index % 3 !== 0));
    expect(python.pid).toBe(pid);
    expect(python.version).toMatch(/^3\.\d+\.\d+$/);
  });

  it("reports the line, column and kind of a syntax error", async () => {
    const result = await worker().compile("if x:\n  a = 1\n    b = 2\n", "mod.py");
    expect(result).toEqual({
      ok: false,
      errors: [{ line: 3, column: expect.any(Number), message: "IndentationError: unexpected indent" }],
    });
  });

  it("handles unicode, huge and odd inputs", async () => {
    const python = worker();
    expect((await python.compile('s = "héllo 😀"\nπ = 3.14\n')).ok).toBe(true);
    expect((await python.compile("x = 1\n".repeat(20_000))).ok).toBe(true);
    const nul = await python.compile("x = 1\0\n");
    expect(nul.ok).toBe(false);
  });

  it("starts a new process after its process is killed", async () => {
    const python = worker();
    expect((await python.compile("x = 1\n")).ok).toBe(true);
    const first = python.pid ?? 0;
    process.kill(first, "SIGKILL");
    await waitUntilGone(first);
    expect((await python.compile("y = 2\n")).ok).toBe(true);
    expect(python.pid).toBeDefined();
    expect(python.pid).not.toBe(first);
  });

  it("sends requests that were waiting on a killed process to the new one", async () => {
    const python = worker();
    await python.compile("x = 1\n");
    const first = python.pid ?? 0;
    const pending = Array.from({ length: 10 }, (_, index) => python.compile(`v${index} = ${index}\n`));
    process.kill(first, "SIGKILL");
    const results = await Promise.all(pending);
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it("times a stuck process out, kills it and starts another for the next request", async () => {
    // A stand-in interpreter that never answers.
    const dir = await mkdtemp(join(tmpdir(), "stuck-python-"));
    const stub = join(dir, "python3");
    await writeFile(stub, "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    try {
      const python = worker({ python: stub, timeoutMs: 200 });
      const first = python.compile("x = 1\n");
      const stuck = python.pid ?? 0;
      await expect(first).rejects.toThrow(/took longer than 200 ms/);
      await waitUntilGone(stuck);
      expect(isAlive(stuck)).toBe(false);
      const second = python.compile("x = 1\n");
      expect(python.pid).not.toBe(stuck);
      await expect(second).rejects.toBeInstanceOf(PythonWorkerError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("leaves no process behind after close", async () => {
    const python = worker();
    await python.compile("x = 1\n");
    const pid = python.pid ?? 0;
    expect(isAlive(pid)).toBe(true);
    await python.close();
    expect(isAlive(pid)).toBe(false);
    expect(python.pid).toBeUndefined();
    // Usable again afterwards: a new process starts on demand.
    expect((await python.compile("x = 1\n")).ok).toBe(true);
  });

  it("fails pending requests on close", async () => {
    const python = worker();
    const pending = expect(python.compile("x = 1\n")).rejects.toBeInstanceOf(PythonWorkerError);
    await python.close();
    await pending;
  });

  it("reports a missing interpreter as unavailable", async () => {
    const python = worker({ python: "/nonexistent/python3" });
    await expect(python.compile("x = 1\n")).rejects.toBeInstanceOf(PythonUnavailableError);
    await expect(python.compile("x = 1\n")).rejects.toBeInstanceOf(PythonUnavailableError);
  });
});
