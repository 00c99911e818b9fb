import { describe, expect, it } from "vitest";
import { StopStringMatcher } from "../../../src/engine/providers/llama-cpp/text-stream.js";

function run(stops: string[], pieces: string[]) {
  const matcher = new StopStringMatcher(stops);
  const emitted: string[] = [];
  for (const piece of pieces) {
    const { text, stopped } = matcher.push(piece);
    emitted.push(text);
    if (stopped) return { emitted, stopped: true };
  }
  emitted.push(matcher.flush());
  return { emitted, stopped: false };
}

describe("StopStringMatcher", () => {
  it("cuts before a stop string inside one piece", () => {
    expect(run(["\n\n"], ["a = 1\n\nb = 2"])).toEqual({ emitted: ["a = 1"], stopped: true });
  });

  it("holds back a possible stop string split over pieces, then cuts", () => {
    expect(run(["</code>"], ["x()", "</co", "de>", "never"])).toEqual({
      emitted: ["x()", "", ""],
      stopped: true,
    });
  });

  it("releases held text once it cannot start a stop string any more", () => {
    expect(run(["END"], ["abc E", "N", "x"])).toEqual({ emitted: ["abc ", "", "ENx", ""], stopped: false });
  });

  it("flushes a held tail when generation ends", () => {
    expect(run(["STOP"], ["go ST"])).toEqual({ emitted: ["go ", "ST"], stopped: false });
  });

  it("picks the earliest of several stop strings and ignores empty ones", () => {
    expect(run(["", "b", "a"], ["xxab"])).toEqual({ emitted: ["xx"], stopped: true });
  });
});
