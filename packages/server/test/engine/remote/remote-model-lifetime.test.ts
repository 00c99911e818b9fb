import { afterEach, describe, expect, it } from "vitest";
import { RemoteModelLifetime } from "../../../src/engine/providers/remote/remote-model.js";

describe("RemoteModelLifetime", () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  afterEach(() => {
    process.off("warning", onWarning);
    warnings.length = 0;
  });

  it("links many concurrent requests without a MaxListenersExceededWarning, and unload aborts them all", async () => {
    process.on("warning", onWarning);
    const lifetime = new RemoteModelLifetime("coder");
    const links = Array.from({ length: 50 }, () => lifetime.link(new AbortController().signal));
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    lifetime.unload();
    expect(links.every((link) => link.signal.aborted)).toBe(true);
    expect(() => lifetime.link(undefined)).toThrow(/unloaded/);
  });

  it("a released link no longer follows the caller's signal", () => {
    const lifetime = new RemoteModelLifetime("coder");
    const caller = new AbortController();
    const link = lifetime.link(caller.signal);
    link.release();
    caller.abort();
    expect(link.signal.aborted).toBe(false);
    // Nor by an unload: a finished request is not cancelled again.
    lifetime.unload();
    expect(link.signal.aborted).toBe(false);
  });
});
