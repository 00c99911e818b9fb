/** The gate that lines up parallel sequences' evaluation steps into shared decodes. */
import { setImmediate as nextCheckPhase } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { StepGate } from "../../../src/engine/providers/llama-cpp/step-gate.js";

/** A step whose end the test decides. */
function controllable() {
  let finish!: (value: string) => void;
  let fail!: (reason: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

describe("StepGate", () => {
  it("starts steps together, in seat order, once no step is in flight", async () => {
    const gate = new StepGate();
    const started: number[] = [];
    const first = controllable();
    const running = gate.step(0, () => {
      started.push(0);
      return first.promise;
    });
    await nextCheckPhase();
    expect(started).toEqual([0]);

    // Asked while seat 0 is in flight: held back, whatever order they ask in.
    const later = [3, 1, 2].map((seat) =>
      gate.step(seat, async () => {
        started.push(seat);
        return `step ${seat}`;
      }),
    );
    await nextCheckPhase();
    expect(started).toEqual([0]);

    first.finish("step 0");
    expect(await running).toBe("step 0");
    expect(await Promise.all(later)).toEqual(["step 3", "step 1", "step 2"]);
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it("waits for the sequence whose step settled last to ask again", async () => {
    const gate = new StepGate();
    const started: string[] = [];
    const a = controllable();
    const b = controllable();
    const stepA = gate.step(0, () => a.promise);
    const stepB = gate.step(1, () => b.promise);
    await nextCheckPhase();

    // A asks for its next step at once; B does so only in the ticks after its own step settled.
    // A's next step does not finish during the test: had it started without B's, B would wait.
    void stepA.then(() => gate.step(0, () => (started.push("a2"), new Promise<never>(() => {}))));
    a.finish("a");
    await nextCheckPhase();
    expect(started).toEqual([]); // B is still in flight
    void stepB.then(async () => {
      for (let tick = 0; tick < 20; tick++) await null; // reading the token, as node-llama-cpp does
      return gate.step(1, async () => started.push("b2"));
    });
    b.finish("b");
    await nextCheckPhase();
    await nextCheckPhase();
    expect(started).toEqual(["a2", "b2"]); // one batch: B was not left behind
  });

  it("does not wait for a sequence that does not ask again", async () => {
    const gate = new StepGate();
    const slow = controllable();
    const idle = gate.step(0, () => slow.promise);
    const other = gate.step(1, async () => "other");
    slow.finish("done"); // its consumer never comes back for more
    expect(await idle).toBe("done");
    expect(await other).toBe("other");
    expect(await gate.step(1, async () => "next")).toBe("next");
  });

  it("passes a failed step's error to its caller only", async () => {
    const gate = new StepGate();
    const failing = controllable();
    const message = (err: unknown) => (err instanceof Error ? err.message : "not an error");
    const bad = gate.step(0, () => failing.promise).catch(message);
    const thrown = gate
      .step(1, () => {
        throw new Error("sync failure");
      })
      .catch(message);
    const good = gate.step(2, async () => "fine");
    await nextCheckPhase(); // started
    failing.fail(new Error("decode failed"));
    expect(await bad).toBe("decode failed");
    expect(await thrown).toBe("sync failure");
    expect(await good).toBe("fine");
    expect(await gate.step(0, async () => "after")).toBe("after");
  });
});
