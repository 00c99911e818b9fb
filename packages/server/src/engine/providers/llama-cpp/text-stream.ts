/**
 * Turning generated tokens into streamable text: tokens may split a UTF-8 character (byte
 * tokens) or carry a SentencePiece leading space that depends on what came before, and stop
 * strings may span several tokens — so text is released only once it can no longer change.
 */
import type { LlamaModel, Token } from "node-llama-cpp";

/** Tokens of context kept for detokenizing the next piece (leading-space rules look back a little). */
const CONTEXT_TOKENS = 16;
/** A UTF-8 character spans at most 4 byte tokens; beyond that the replacement char is real output. */
const MAX_PENDING = 4;

export class TokenTextDecoder {
  private pending: Token[] = [];
  private context: Token[];

  /** `context`: the prompt's last tokens, so the first generated piece gets its leading space right. */
  constructor(
    private readonly model: LlamaModel,
    context: readonly Token[],
  ) {
    this.context = context.slice(-CONTEXT_TOKENS);
  }

  /** Text of one token in context, for per-token logprobs (may be a partial character). */
  tokenText(token: Token): string {
    return this.model.detokenize([token], false, [...this.context, ...this.pending]);
  }

  /** Adds a token; returns the text that is now final (possibly ""). */
  push(token: Token): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.context);
    if (text.endsWith("\uFFFD") && this.pending.length < MAX_PENDING) return "";
    return this.release(text);
  }

  /** Whatever is still pending (a character cut off by the end of generation). */
  flush(): string {
    if (this.pending.length === 0) return "";
    return this.release(this.model.detokenize(this.pending, false, this.context));
  }

  private release(text: string): string {
    this.context = [...this.context, ...this.pending].slice(-CONTEXT_TOKENS);
    this.pending = [];
    return text;
  }
}

/**
 * Cuts the text before the first stop string. While the text ends with what could be the start
 * of a stop string, that tail is held back, so a stop string is never streamed out in pieces.
 */
export class StopStringMatcher {
  private held = "";
  private readonly stops: string[];

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  push(text: string): { text: string; stopped: boolean } {
    const buffer = this.held + text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.held = "";
      return { text: buffer.slice(0, cut), stopped: true };
    }
    let keep = 0;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > keep; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          keep = length;
          break;
        }
      }
    }
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** The held-back tail, once generation ended without completing a stop string. */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }
}
