/** The child side of `lib/child-server.ts`: report readiness, and never outlive the runner. */

/** Sends the ready message over IPC; the runner waits for it before loading the server. */
export function announceReady(message: { url: string; [key: string]: unknown }): void {
  if (process.send === undefined) {
    // Started by hand (no IPC): just say where it listens.
    console.log(JSON.stringify({ type: "ready", ...message }));
    return;
  }
  process.send({ type: "ready", ...message });
}

/**
 * Runs `cleanup` once, then exits, on SIGTERM / SIGINT or when the runner goes away (IPC
 * disconnect). A hard deadline keeps a stuck cleanup from leaving a process behind. Exiting
 * through `process.exit` (not a signal) is what lets `--cpu-prof` write its profile.
 */
export function stopOnRunnerExit(cleanup: () => Promise<void>, deadlineMs = 3_000): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), deadlineMs).unref();
    cleanup().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error("bench server cleanup failed:", err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", stop);
}
