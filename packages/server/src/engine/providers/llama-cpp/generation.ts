/**
 * The token loop shared by chat, FIM and completion. It runs on the low-level
 * `LlamaContextSequence.evaluateWithMetadata` rather than LlamaChat/LlamaCompletion because only
 * that API reports each sampled token's probability (`confidence`) — the per-token logprobs the
 * provider interface promises. Stop strings, end-of-turn tokens and streaming are handled here.
 */
import type { LlamaContextSequence, LlamaModel, SequenceEvaluateOptions, Token } from "node-llama-cpp";
import type {
  FinishReason,
  GenerationChunk,
  SamplingParameters,
  TokenAlternative,
  TokenProbability,
} from "../provider.js";
import { probableSteps } from "./probability-steps.js";
import type { Prompt } from "./prompt.js";
import { StopStringMatcher, TokenTextDecoder } from "./text-stream.js";

export interface GenerationRun {
  model: LlamaModel;
  sequence: LlamaContextSequence;
  prompt: Prompt;
  sampling: SamplingParameters;
  maxNewTokens: number;
  logprobs: boolean;
  /** With `logprobs`: how many of the most likely tokens to report per position (0 for none). */
  topLogprobs: number;
  /** A token's own bytes from the vocabulary (token-bytes.ts), for tokens whose text loses them. */
  tokenBytes: (token: Token) => number[] | undefined;
  signal: AbortSignal | undefined;
  /**
   * Starts one next-token step. With parallel sequences it lines the step up with the other
   * sequences' steps (see StepGate); otherwise it calls at once.
   */
  startStep: <T>(evaluate: () => Promise<T>) => Promise<T>;
  /** Called once the sequence has no evaluation in flight any more and may serve another request. */
  onSequenceIdle: () => void;
}

/** Recent tokens that frequency/presence penalties look at (node-llama-cpp's default window). */
const PENALTY_WINDOW = 64;
/** What a token that holds part of a UTF-8 character reads as. */
const REPLACEMENT_CHARACTER = "\uFFFD";
/** OpenAI's floor for "impossible" tokens; keeps JSON free of -Infinity. */
const MIN_LOGPROB = -9999;

function evaluateOptions(sampling: SamplingParameters, generated: Token[]): SequenceEvaluateOptions {
  const frequencyPenalty = sampling.frequencyPenalty ?? 0;
  const presencePenalty = sampling.presencePenalty ?? 0;
  return {
    // Unset temperature keeps node-llama-cpp's default: 0, i.e. greedy decoding.
    temperature: sampling.temperature,
    topP: sampling.topP,
    seed: sampling.seed,
    repeatPenalty:
      frequencyPenalty === 0 && presencePenalty === 0
        ? undefined
        : {
            punishTokens: () => generated.slice(-PENALTY_WINDOW),
            maxPunishTokens: PENALTY_WINDOW,
            // OpenAI's penalties are additive only; 1 turns off llama.cpp's multiplicative repeat penalty.
            penalty: 1,
            frequencyPenalty,
            presencePenalty,
          },
  };
}

/**
 * The `count` most likely tokens of a distribution, most likely first, selected in one pass. Both
 * kinds of step hand over unranked probabilities: node-llama-cpp's `probabilities` span the whole
 * vocabulary, `probableSteps` gives those of the logits it asked for.
 */
function mostLikely(probabilities: ReadonlyMap<Token, number>, count: number): [Token, number][] {
  const top: [Token, number][] = [];
  for (const entry of probabilities) {
    if (top.length === count && entry[1] <= top[count - 1]![1]) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]![1] < entry[1]) at--;
    top.splice(at, 0, entry);
    if (top.length > count) top.pop();
  }
  return top;
}

function toLogprob(probability: number): number {
  const logprob = Math.log(probability);
  return Number.isFinite(logprob) ? Math.min(0, logprob) : MIN_LOGPROB;
}

const ABORTED = Symbol("aborted");

/** A promise that settles when the signal aborts, and a way to stop listening. */
function abortion(signal: AbortSignal | undefined): { aborted: Promise<typeof ABORTED>; dispose(): void } {
  let dispose = () => {};
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) return resolve(ABORTED);
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    dispose = () => signal.removeEventListener("abort", onAbort);
  });
  return { aborted, dispose };
}

/**
 * Streams the answer: text chunks as they become final, then one last chunk with the finish
 * reason and token usage. Cancellation (the signal, or the consumer leaving the loop) answers at
 * once; the sequence is handed back when its in-flight evaluation step has ended.
 */
export async function* generateChunks(run: GenerationRun): AsyncGenerator<GenerationChunk> {
  const { model, sequence, prompt } = run;
  const generated: Token[] = [];
  const decoder = new TokenTextDecoder(model, prompt.tokens);
  const matcher = new StopStringMatcher([...prompt.stopStrings, ...(run.sampling.stop ?? [])]);
  let finishReason: FinishReason = "stop";
  let stoppedByString = false;

  let steps: AsyncGenerator<
    { token: Token; confidence?: number; probabilities?: ReadonlyMap<Token, number> },
    void,
    void
  >;
  const top = run.logprobs ? run.topLogprobs : 0;
  try {
    // Keep the cached state of a shared prompt prefix (same system prompt, same file), but always
    // evaluate at least the last prompt token: the first answer token needs its logits.
    await sequence.adaptStateToTokens(prompt.tokens.slice(0, -1), false);
    const tokens = prompt.tokens.slice(sequence.nextTokenIndex);
    const options = evaluateOptions(run.sampling, generated);
    // Probabilities are asked for only when wanted: node-llama-cpp's `confidence` sorts the
    // vocabulary on every token. Greedy requests get them without the sort (probability-steps.ts).
    steps =
      run.logprobs && (run.sampling.temperature ?? 0) === 0
        ? probableSteps(model, sequence, tokens, options, top)
        : sequence.evaluateWithMetadata(
            tokens,
            { confidence: run.logprobs, probabilities: top > 0 },
            options,
          );
  } catch (err) {
    run.onSequenceIdle();
    throw err;
  }
  /** A token as logprobs list it: its text in context, and its bytes where the text lost them. */
  const spelled = (token: Token, logprob: number): TokenAlternative => {
    const text = decoder.tokenText(token);
    const bytes = text.includes(REPLACEMENT_CHARACTER) ? run.tokenBytes(token) : undefined;
    return { token: text, logprob, ...(bytes && { bytes }) };
  };
  const { aborted, dispose } = abortion(run.signal);
  try {
    while (true) {
      if (generated.length >= run.maxNewTokens) {
        finishReason = "length";
        break;
      }
      // The first step evaluates the prompt, possibly over several decodes: it is not lined up
      // with the others, which keep decoding alongside its chunks instead of waiting for all.
      const next = generated.length === 0 ? steps.next() : run.startStep(() => steps.next());
      next.catch(() => undefined); // abandoned on cancel; its failure must not surface as unhandled
      const step = await Promise.race([next, aborted]);
      if (step === ABORTED) {
        finishReason = "cancelled";
        break;
      }
      if (step.done === true) break; // an end-of-generation token (EOS, EOT, <|im_end|>…)
      const { token, confidence, probabilities } = step.value;
      if (prompt.stopTokens.has(token)) break;

      generated.push(token);
      // Alternatives are spelled in the same context as the sampled token, before it is pushed.
      const alternatives =
        top > 0 && probabilities !== undefined
          ? mostLikely(probabilities, top).map(([t, p]) => spelled(t, toLogprob(p)))
          : undefined;
      const tokens: TokenProbability[] | undefined = run.logprobs
        ? [{ ...spelled(token, toLogprob(confidence ?? 1)), ...(alternatives && { top: alternatives }) }]
        : undefined;
      const piece = matcher.push(decoder.push(token));
      if (piece.text !== "" || tokens !== undefined) yield { text: piece.text, ...(tokens && { tokens }) };
      if (piece.stopped) {
        stoppedByString = true;
        break;
      }
    }
  } finally {
    dispose();
    // Not awaited: return() is queued behind an in-flight step, and cancellation must not wait for it.
    void steps
      .return()
      .catch(() => undefined)
      .finally(run.onSequenceIdle);
  }
  // Text held back for a stop string or an unfinished character is part of the answer after all.
  const tail = stoppedByString ? "" : matcher.push(decoder.flush()).text + matcher.flush();
  yield {
    text: tail,
    finishReason,
    usage: { promptTokens: prompt.tokens.length, completionTokens: generated.length },
  };
}
