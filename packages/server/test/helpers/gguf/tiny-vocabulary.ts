/**
 * A small SentencePiece-style ("llama") vocabulary: special tokens, FIM and chat tokens, all 256
 * byte-fallback tokens (so any UTF-8 text tokenizes), single printable characters and a few
 * code words with every prefix (so SPM's pairwise merges can reach each word).
 */

/** llama.cpp token types (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** SentencePiece's word-boundary marker; llama.cpp maps spaces to it before tokenizing. */
const SPACE = "\u2581";

const WORDS = [
  "def",
  "return",
  "print",
  "import",
  "from",
  "class",
  "self",
  "for",
  "in",
  "if",
  "else",
  "while",
  "function",
  "const",
  "let",
  "the",
  "and",
  "hello",
  "world",
  "value",
  "result",
  "add",
  "sum",
  "x",
  "y",
  "a",
  "b",
];

export interface TinyVocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
  ids: {
    unk: number;
    bos: number;
    eos: number;
    imStart: number;
    imEnd: number;
    /** Present only with `withFim`. */
    fim?: { pre: number; suf: number; mid: number; eot: number };
  };
}

export interface TinyVocabularyOptions {
  /** Pad with filler pieces up to this many tokens (a realistic output layer for benchmarks). */
  minSize?: number;
  /**
   * Include `<PRE>`/`<SUF>`/`<MID>`/`<EOT>`. Left out entirely otherwise: llama.cpp detects FIM
   * tokens by their text too, so a model "without FIM" must not contain them at all.
   */
  withFim?: boolean;
}

export function buildTinyVocabulary(options: TinyVocabularyOptions = {}): TinyVocabulary {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (text: string, type: number, score = 0): number => {
    if (seen.has(text)) return tokens.indexOf(text);
    seen.add(text);
    tokens.push(text);
    types.push(type);
    scores.push(score);
    return tokens.length - 1;
  };

  const ids: TinyVocabulary["ids"] = {
    unk: add("<unk>", TOKEN_TYPE.unknown),
    bos: add("<s>", TOKEN_TYPE.control),
    eos: add("</s>", TOKEN_TYPE.control),
    // ChatML turn markers for the chat template; llama.cpp treats `<|im_end|>` as end-of-generation.
    imStart: add("<|im_start|>", TOKEN_TYPE.control),
    imEnd: add("<|im_end|>", TOKEN_TYPE.control),
  };
  if (options.withFim ?? true) {
    // CodeLlama's FIM spelling.
    ids.fim = {
      pre: add("<PRE>", TOKEN_TYPE.control),
      suf: add("<SUF>", TOKEN_TYPE.control),
      mid: add("<MID>", TOKEN_TYPE.control),
      eot: add("<EOT>", TOKEN_TYPE.control),
    };
  }
  for (let byte = 0; byte < 256; byte++) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`, TOKEN_TYPE.byte);
  }

  // SPM merges the adjacent pair whose concatenation has the highest score; scores fall with
  // insertion order so the result is deterministic, and longer pieces win over their parts.
  let rank = 0;
  const piece = (text: string) => add(text, TOKEN_TYPE.normal, -(rank++ / 1000) + text.length);
  piece(SPACE);
  for (let code = 0x21; code <= 0x7e; code++) piece(String.fromCharCode(code));
  for (const word of WORDS) {
    const spaced = SPACE + word;
    for (let end = 2; end <= spaced.length; end++) piece(spaced.slice(0, end));
    for (let end = 2; end <= word.length; end++) piece(word.slice(0, end));
  }
  for (let i = 0; tokens.length < (options.minSize ?? 0); i++) piece(`${SPACE}w${i.toString(36)}`);
  return { tokens, scores, types, ids };
}
