/**
 * A token's own bytes, for OpenAI's logprobs `bytes`. A token may hold only part of a UTF-8
 * character (CJK, emoji, any byte token): its text is then U+FFFD, and the bytes a client needs to
 * put the character back together are lost. node-llama-cpp hands token text over as JS strings
 * only, so the bytes come from the vocabulary in the GGUF metadata.
 */
import { type LlamaModel, LlamaVocabularyType, type Token } from "node-llama-cpp";

/** SentencePiece's byte tokens, `<0xE4>`. */
const SPM_BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
/** SentencePiece writes a space as U+2581 (▁). */
const SPM_SPACE = /\u2581/g;

/**
 * GPT-2's byte-level BPE spells every byte as one printable character: bytes that are printable
 * Latin-1 stand for themselves, the others are moved to U+0100 and up, in byte order. The
 * reverse of that table, from character code to byte.
 */
const BYTE_OF_CHAR: ReadonlyMap<number, number> = (() => {
  const printable = (byte: number) =>
    (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  const table = new Map<number, number>();
  let moved = 0;
  for (let byte = 0; byte < 256; byte++) {
    table.set(printable(byte) ? byte : 256 + moved++, byte);
  }
  return table;
})();

/** The bytes a GPT-2 byte-level BPE piece stands for, or undefined if it is not one. */
export function byteLevelBytes(piece: string): number[] | undefined {
  const bytes: number[] = [];
  for (const char of piece) {
    const byte = BYTE_OF_CHAR.get(char.codePointAt(0) ?? -1);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return bytes;
}

/** The bytes a SentencePiece piece stands for. */
export function sentencePieceBytes(piece: string): number[] {
  const byteToken = SPM_BYTE_TOKEN.exec(piece);
  if (byteToken !== null) return [Number.parseInt(byteToken[1] ?? "0", 16)];
  return [...Buffer.from(piece.replace(SPM_SPACE, " "), "utf8")];
}

/**
 * For one model: a token's bytes from its vocabulary piece, or undefined when the vocabulary is
 * not in the metadata or of a kind without a known byte spelling (then clients get the text's).
 */
export function vocabularyBytes(model: LlamaModel): (token: Token) => number[] | undefined {
  const ggml = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml;
  const pieces = Array.isArray(ggml?.tokens) ? (ggml.tokens as unknown[]) : [];
  // llama.cpp's BPE vocabularies are GPT-2's byte-level kind (Qwen, Llama 3, …).
  const spell =
    model.vocabularyType === LlamaVocabularyType.spm
      ? sentencePieceBytes
      : model.vocabularyType === LlamaVocabularyType.bpe
        ? byteLevelBytes
        : undefined;
  return (token) => {
    const piece = pieces[token];
    return spell === undefined || typeof piece !== "string" ? undefined : spell(piece);
  };
}
