/**
 * A token's own bytes (for OpenAI's logprobs `bytes`), from the vocabulary: byte tokens and
 * pieces of characters read as U+FFFD as text, and their bytes must survive.
 */
import { getLlama } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import {
  byteLevelBytes,
  sentencePieceBytes,
  vocabularyBytes,
} from "../../../src/engine/providers/llama-cpp/token-bytes.js";
import { removeGeneratedModels, tinyLlamaModelPath } from "../../helpers/gguf/tiny-llama-model.js";

afterAll(() => removeGeneratedModels());

describe("token bytes", () => {
  it("reads SentencePiece byte tokens and ▁ spaces", () => {
    expect(sentencePieceBytes("<0xE4>")).toEqual([0xe4]);
    expect(sentencePieceBytes("<0x0A>")).toEqual([0x0a]);
    expect(sentencePieceBytes("\u2581the")).toEqual([...Buffer.from(" the")]);
    expect(sentencePieceBytes("é")).toEqual([0xc3, 0xa9]);
  });

  it("reverses GPT-2's byte-level spelling", () => {
    expect(byteLevelBytes("\u0120hello")).toEqual([...Buffer.from(" hello")]); // Ġ is the space
    expect(byteLevelBytes("\u00c3\u00a9")).toEqual([0xc3, 0xa9]); // "é" as two byte characters
    expect(byteLevelBytes("\u00e4")).toEqual([0xe4]); // a lone lead byte
    expect(byteLevelBytes("\u010a")).toEqual([0x0a]); // Ċ is the newline
    expect(byteLevelBytes("中")).toBeUndefined(); // not a byte-level character
  });

  it("gives back every byte of a text split into byte tokens by a real vocabulary", async () => {
    const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1 });
    const model = await llama.loadModel({ modelPath: await tinyLlamaModelPath() });
    try {
      const tokens = model.tokenize("é中", false);
      // The generated vocabulary has no piece for these: they become byte tokens, U+FFFD as text.
      expect(tokens.some((t) => model.detokenize([t]) === "\uFFFD")).toBe(true);
      const bytesOf = vocabularyBytes(model);
      // SentencePiece tokenizes with its dummy prefix: a leading ▁, the space.
      expect(Buffer.from(tokens.flatMap((t) => bytesOf(t) ?? []))).toEqual(Buffer.from(" é中"));
    } finally {
      await model.dispose();
    }
  });
});
