/**
 * Generated tokens per second through the embedded llama.cpp provider (`LlamaCppProvider` →
 * `LoadedModel.generate`) against node-llama-cpp driven directly (a `sequence.evaluate` loop) on
 * the same generated GGUF, with the same thread count, context size, greedy sampling and exactly
 * the same tokens, in alternating rounds. See bench/README.md.
 */
import type { Llama, LlamaContext, LlamaModel, Token } from "node-llama-cpp";
import type { LoadedModel } from "../../packages/server/src/engine/providers/provider.js";
import { type BenchResult, type BenchSide, type BenchTarget } from "../lib/benchmark.js";
import {
  generateBenchModel,
  llamaMaxTokens,
  llamaRounds,
  llamaThreads,
  percent,
  timed,
} from "../lib/llama.js";
import { formatInt, median } from "../lib/load.js";

export const name = "provider-throughput";
export const description =
  "generated tokens/s through LlamaCppProvider.generate vs a direct node-llama-cpp sequence.evaluate loop, same GGUF";
export const target: BenchTarget = {
  minRatio: 0.95,
  description: "provider ≥ 0.95 × direct node-llama-cpp tokens/s",
};

/**
 * Its greedy continuation (deterministic: the generated weights have a fixed seed) has no
 * end-of-generation token within the first 128 tokens, so both sides run the full budget; the
 * benchmark checks that rather than assuming it.
 */
const PROMPT = "def add(a, b):";
const CONTEXT_SIZE = 512;
/** Requests per measured round: one 128-token request is only ~0.5 s, too short to time alone. */
const REQUESTS_PER_ROUND = 3;

interface Side {
  label: string;
  /** One request: the generated tokens (direct) or completion tokens and text (provider). */
  generate(): Promise<{ tokens: number; text: string }>;
  tokensPerSecond: number[];
  cpuShare: number[];
}

function summarize(side: Side): BenchSide {
  const value = median(side.tokensPerSecond);
  return {
    label: side.label,
    value,
    unit: "tokens/s",
    details: {
      rounds: side.tokensPerSecond.map(formatInt).join(" / "),
      "ms/token": (1000 / value).toFixed(2),
      CPU: percent(median(side.cpuShare)),
    },
  };
}

async function measure(side: Side, maxTokens: number): Promise<void> {
  const round = await timed(async () => {
    let tokens = 0;
    for (let i = 0; i < REQUESTS_PER_ROUND; i++) {
      const result = await side.generate();
      if (result.tokens !== maxTokens) {
        throw new Error(`${side.label} generated ${result.tokens} tokens, not ${maxTokens}`);
      }
      tokens += result.tokens;
    }
    return tokens;
  });
  side.tokensPerSecond.push(round.value / round.seconds);
  side.cpuShare.push(round.cpuShare);
}

export async function run(): Promise<BenchResult> {
  const rounds = llamaRounds();
  const threads = llamaThreads();
  const maxTokens = llamaMaxTokens();
  const { getLlama } = await import("node-llama-cpp");
  const { LlamaCppProvider } = await import("../../packages/server/src/engine/providers/llama-cpp/index.js");

  const file = await generateBenchModel();
  let provided: LoadedModel | undefined;
  let llama: Llama | undefined;
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  try {
    // Subject: the provider as the server configures it, pinned to the same settings as the direct side.
    provided = await new LlamaCppProvider({
      source: file.path,
      cacheDir: file.dir,
      threads,
      contextSize: CONTEXT_SIZE,
      parallelSequences: 1,
      gpuLayers: 0,
    }).load();
    const subjectModel = provided;

    // Baseline: node-llama-cpp as an application would call it, on its own Llama instance
    // (the provider's is process-wide and private to it).
    llama = await getLlama({ build: "never", gpu: false, maxThreads: threads });
    model = await llama.loadModel({ modelPath: file.path, gpuLayers: 0 });
    context = await model.createContext({ contextSize: CONTEXT_SIZE, sequences: 1, threads });
    const directModel = model;
    const sequence = context.getSequence();
    // The provider's completion prompt: BOS, then the text as-is.
    const bos = directModel.tokens.bos;
    const promptTokens: Token[] = [...(bos === null ? [] : [bos]), ...directModel.tokenize(PROMPT, false)];

    const direct = async (): Promise<{ tokens: number; text: string }> => {
      // The same KV-cache reuse as the provider: keep the cached prompt prefix, evaluate at least
      // the last prompt token (the first answer token needs its logits). Both sides thus decode
      // the whole prompt in the first (warm-up) request and one prompt token per request after.
      await sequence.adaptStateToTokens(promptTokens.slice(0, -1), false);
      const generated: Token[] = [];
      // temperature 0 = greedy, as in the provider; an end-of-generation token ends the loop early,
      // which the token-count check would report.
      for await (const token of sequence.evaluate(promptTokens.slice(sequence.nextTokenIndex), {
        temperature: 0,
      })) {
        generated.push(token);
        if (generated.length >= maxTokens) break;
      }
      return { tokens: generated.length, text: directModel.detokenize(generated, false, promptTokens) };
    };
    const viaProvider = async (logprobs = false): Promise<{ tokens: number; text: string }> => {
      const result = await subjectModel.generate({
        input: { kind: "completion", prompt: PROMPT },
        sampling: { maxTokens, temperature: 0 },
        logprobs,
      });
      return { tokens: result.usage.completionTokens, text: result.text };
    };

    // Warm-up (page faults of the mapped weights, first prompt decode) and the sanity check: both
    // sides must produce the same answer, token for token.
    const [subjectAnswer, baselineAnswer] = [await viaProvider(), await direct()];
    if (subjectAnswer.tokens !== maxTokens || baselineAnswer.tokens !== maxTokens) {
      throw new Error(
        `expected ${maxTokens} tokens on both sides, got provider ${subjectAnswer.tokens}, direct ` +
          `${baselineAnswer.tokens}: an end-of-generation token came first (generator or prompt changed?)`,
      );
    }
    if (subjectAnswer.text !== baselineAnswer.text) {
      throw new Error(
        `provider and direct answers differ:\n  ${JSON.stringify(subjectAnswer.text)}\n  ${JSON.stringify(baselineAnswer.text)}`,
      );
    }

    // Informational third runner: the direct loop asking for what the provider asks for
    // (evaluateWithMetadata with `confidence`, the sampled token's probability for logprobs), to
    // tell that cost apart from the provider's own JavaScript.
    const directWithConfidence = async (): Promise<{ tokens: number; text: string }> => {
      await sequence.adaptStateToTokens(promptTokens.slice(0, -1), false);
      const generated: Token[] = [];
      for await (const step of sequence.evaluateWithMetadata(
        promptTokens.slice(sequence.nextTokenIndex),
        { confidence: true },
        { temperature: 0 },
      )) {
        generated.push(step.token);
        if (generated.length >= maxTokens) break;
      }
      return { tokens: generated.length, text: directModel.detokenize(generated, false, promptTokens) };
    };
    if ((await directWithConfidence()).text !== baselineAnswer.text) {
      throw new Error("the direct loop with confidence answers differently from the one without");
    }

    if ((await viaProvider(true)).text !== baselineAnswer.text) {
      throw new Error("the provider with logprobs answers differently from the one without");
    }

    const sides: [Side, Side, Side, Side] = [
      { label: "provider", generate: () => viaProvider(), tokensPerSecond: [], cpuShare: [] },
      { label: "node-llama-cpp", generate: direct, tokensPerSecond: [], cpuShare: [] },
      {
        label: "node-llama-cpp + confidence",
        generate: directWithConfidence,
        tokensPerSecond: [],
        cpuShare: [],
      },
      {
        label: "provider + logprobs",
        generate: () => viaProvider(true),
        tokensPerSecond: [],
        cpuShare: [],
      },
    ];
    // Rotate the order every round (A B C, B C A, C A B …) so drift of a shared machine lands on all.
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < sides.length; i++) await measure(sides[(round + i) % sides.length]!, maxTokens);
    }

    const subject = summarize(sides[0]);
    const baseline = summarize(sides[1]);
    const withConfidence = summarize(sides[2]);
    const withLogprobs = summarize(sides[3]);
    return {
      sides: [subject, baseline],
      ratio: subject.value / baseline.value,
      ratioOf: "provider / node-llama-cpp median tokens/s",
      notes: [
        `${rounds} rounds per side in rotating order, each ${REQUESTS_PER_ROUND} requests × ${maxTokens} generated tokens, ` +
          `after one warm-up request per side; one process, the runners take turns (never at once)`,
        `${file.summary}; ${threads} thread(s), context ${CONTEXT_SIZE}, 1 sequence, CPU only, greedy (temperature 0)`,
        `prompt ${JSON.stringify(PROMPT)} (${promptTokens.length} tokens, BOS included); tokens/s = generated tokens / ` +
          `wall time of whole requests (prompt reuse included, identical on both sides)`,
        `same work checked: both sides generate exactly ${maxTokens} tokens (no end-of-generation token within the ` +
          `budget) and the same text; direct = sequence.evaluate() with the provider's KV prefix reuse`,
        `not compared, for attribution: node-llama-cpp + evaluateWithMetadata({ confidence: true }) (token ` +
          `probabilities the way node-llama-cpp gives them: a sort of the vocabulary per token) ` +
          `${formatInt(withConfidence.value)} tokens/s (${withConfidence.details.rounds}) = ` +
          `${(withConfidence.value / baseline.value).toFixed(3)} × direct; the provider with logprobs (greedy: ` +
          `controlledEvaluate, no sort; what /v1/ai/inference/completion asks for) ${formatInt(withLogprobs.value)} ` +
          `tokens/s (${withLogprobs.details.rounds}) = ${(withLogprobs.value / baseline.value).toFixed(3)} × direct`,
        `CPU = this process's CPU time / wall time (JS thread + llama.cpp threads)`,
      ],
    };
  } finally {
    await provided?.unload();
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    await file.remove();
  }
}
