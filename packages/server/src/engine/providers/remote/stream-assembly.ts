import type { FinishReason, GenerationChunk, TokenProbability, TokenUsage } from "../provider.js";
import { UpstreamProtocolError } from "./remote-call.js";

/** One translated event of an upstream stream; providers map their wire events to these. */
export interface StreamPiece {
  text: string;
  tokens?: TokenProbability[];
  /** Set only by the event that proves the answer complete. */
  finishReason?: FinishReason;
  usage?: TokenUsage;
}

export const ZERO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0 };

/**
 * Turns translated pieces into our chunks: text as it comes, then one final chunk with the
 * finish reason and usage. A stream that ends without a finish reason was cut short (the SDKs
 * end quietly when the connection closes cleanly mid-answer), so it fails instead of passing
 * off a partial answer as complete.
 */
export async function* assembleStream(pieces: AsyncIterable<StreamPiece>): AsyncGenerator<GenerationChunk> {
  let finishReason: FinishReason | undefined;
  let usage: TokenUsage | undefined;
  for await (const piece of pieces) {
    if (piece.text.length > 0 || piece.tokens !== undefined) {
      yield { text: piece.text, ...(piece.tokens ? { tokens: piece.tokens } : {}) };
    }
    finishReason = piece.finishReason ?? finishReason;
    usage = piece.usage ?? usage;
  }
  if (finishReason === undefined) {
    throw new UpstreamProtocolError("the stream ended before the model finished (truncated answer)");
  }
  yield { text: "", finishReason, usage: usage ?? ZERO_USAGE };
}
