/**
 * What an instruction model says is rarely just the code to insert: it fences it, introduces it
 * ("Here is the completion:"), or repeats the lines around the cursor. These functions keep the
 * insertion; the streaming filters do the same on the fly, as far as it can be decided early.
 */
import { extractCodeBlocks } from "../../code/index.js";

/**
 * An opening line of chatter: "Here is the code:", "Sure! ...", "Certainly, ..." — but not code
 * that happens to start with such a word (`sure = check()`, `okay(x)`).
 */
const PROSE_OPENER =
  /^\s*(?:here(?:'s| is| are)\b|sure\b|certainly\b|of course\b|okay\b|ok[,.!]|below is\b|the (?:missing|completed?|inserted) code\b)(?!\s*(?:[=(.[]|:=))/i;
const FENCE_LINE = /^\s*(?:`{3,}|~{3,})/;
/** How much of the code around the cursor an echo is looked for in (echoes are local). */
const ECHO_WINDOW = 4_000;
/** An echo shorter than this (say a lone `}`) is as likely to be real code: keep it. */
const MIN_ECHO_CHARS = 8;

/** The insertion in an instruction model's answer: its first code block, else the bare answer. */
export function extractInsertion(raw: string): string {
  const { blocks, truncatedBlock } = extractCodeBlocks(raw);
  const block = blocks[0] ?? truncatedBlock;
  if (block !== undefined) return block.code;
  const lines = raw.split("\n");
  while (lines.length > 0 && (PROSE_OPENER.test(lines[0] ?? "") || FENCE_LINE.test(lines[0] ?? ""))) {
    lines.shift();
  }
  while (lines.length > 0 && FENCE_LINE.test(lines.at(-1) ?? "")) lines.pop();
  return lines.join("\n");
}

const visibleLength = (text: string) => text.replace(/\s+/g, "").length;

/** Start offsets of the lines of `text`, first to last (so the longest tail comes first). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * Drops code the model repeated from around the cursor: the last lines before it at the start
 * of the answer (with or without their indentation), the first lines after it at the end.
 */
export function trimEchoes(answer: string, prefix: string, suffix: string): string {
  let text = answer;
  const before = prefix.slice(-ECHO_WINDOW);
  for (const start of lineStarts(before)) {
    const echoed = before.slice(start);
    if (visibleLength(echoed) < MIN_ECHO_CHARS) continue;
    if (text.startsWith(echoed)) {
      text = text.slice(echoed.length);
      break;
    }
    const bare = echoed.trimStart();
    if (text.trimStart().startsWith(bare)) {
      text = text.trimStart().slice(bare.length);
      break;
    }
  }
  const after = suffix.slice(0, ECHO_WINDOW);
  const ends = lineStarts(after)
    .map((start) => start - 1)
    .filter((end) => end > 0)
    .concat(after.length)
    .reverse();
  for (const end of ends) {
    const echoed = after.slice(0, end).trimEnd();
    if (visibleLength(echoed) < MIN_ECHO_CHARS) continue;
    const trimmed = text.trimEnd();
    const bare = echoed.trimStart();
    if (trimmed.endsWith(bare) && trimmed.length > bare.length) {
      // The suffix brings its own line break.
      text = trimmed.slice(0, trimmed.length - bare.length).trimEnd();
      break;
    }
  }
  return text;
}

/** The text before the first stop sequence (stop sequences are never part of the answer). */
export function cutAtStops(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** A stage of the delta pipeline: text in, the part safe to show now out. */
export interface DeltaFilter {
  push(text: string): string;
  /** The rest once the model finished. */
  end(): string;
  /** True once nothing more can pass (a stop sequence or a closing fence was seen). */
  readonly done: boolean;
}

/**
 * Cuts the stream at the first stop sequence, holding back a tail that could still become one,
 * so the joined deltas never contain a stop sequence or a piece of one.
 */
export class StopFilter implements DeltaFilter {
  private held = "";
  done = false;

  constructor(private readonly stops: readonly string[]) {}

  push(text: string): string {
    if (this.done) return "";
    const pending = this.held + text;
    const cut = cutAtStops(pending, this.stops);
    if (cut.length < pending.length) {
      this.done = true;
      this.held = "";
      return cut;
    }
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, pending.length); k > hold; k--) {
        if (pending.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.held = pending.slice(pending.length - hold);
    return pending.slice(0, pending.length - hold);
  }

  end(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }
}

/**
 * Streams only the code of a fenced answer: opening lines of chatter and an opening fence are
 * dropped, and everything from a closing fence on. A line break is held back until the next
 * line is known not to be a fence, as `extractCodeBlocks` would not keep it either.
 */
export class FenceFilter implements DeltaFilter {
  private state: "start" | "body" | "closed" = "start";
  private held = "";
  /** Whether `held` begins a line (only then can it be a fence). */
  private atLineStart = true;
  private newlinePending = false;

  get done(): boolean {
    return this.state === "closed";
  }

  push(text: string): string {
    if (this.state === "closed") return "";
    this.held += text;
    return this.state === "start" ? this.skipPreamble() : this.passCode();
  }

  end(): string {
    const rest = this.held;
    this.held = "";
    if (this.state === "closed") return "";
    if (this.state === "start") return extractInsertion(rest);
    if (this.atLineStart && FENCE_LINE.test(rest)) return "";
    return (this.newlinePending ? "\n" : "") + rest;
  }

  private skipPreamble(): string {
    for (;;) {
      const newline = this.held.indexOf("\n");
      if (newline < 0) {
        // A first line long enough to be neither a fence nor a preamble is code already.
        const head = this.held.trimStart();
        if (head.length < 24 || FENCE_LINE.test(head) || PROSE_OPENER.test(head)) return "";
        break;
      }
      const line = this.held.slice(0, newline);
      if (!FENCE_LINE.test(line) && !PROSE_OPENER.test(line) && line.trim() !== "") break;
      this.held = this.held.slice(newline + 1);
    }
    this.state = "body";
    return this.passCode();
  }

  private passCode(): string {
    let out = "";
    for (;;) {
      const newline = this.held.indexOf("\n");
      if (newline < 0) {
        if (this.held === "" || (this.atLineStart && this.mayBecomeFence(this.held))) return out;
        out += (this.newlinePending ? "\n" : "") + this.held;
        this.newlinePending = false;
        this.atLineStart = false;
        this.held = "";
        return out;
      }
      const line = this.held.slice(0, newline);
      this.held = this.held.slice(newline + 1);
      if (this.atLineStart && FENCE_LINE.test(line)) {
        this.state = "closed";
        this.held = "";
        return out;
      }
      out += (this.newlinePending ? "\n" : "") + line;
      this.newlinePending = true;
      this.atLineStart = true;
    }
  }

  private mayBecomeFence(partialLine: string): boolean {
    const head = partialLine.trimStart();
    return head === "" || FENCE_LINE.test(head) || "```".startsWith(head) || "~~~".startsWith(head);
  }
}
