/**
 * A GGUF model in memory: one llama.cpp context whose sequences serve concurrent requests.
 */
import type { ChatWrapper, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { ApiError, invalidRequest } from "../../../errors.js";
import type {
  FinishReason,
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  ModelCapabilities,
  TokenProbability,
} from "../provider.js";
import { type GenerationRun, generateChunks } from "./generation.js";
import { buildPrompt, chatWrapperFor } from "./prompt.js";
import { SequencePool } from "./sequence-pool.js";
import { StepGate } from "./step-gate.js";
import { vocabularyBytes } from "./token-bytes.js";

export class LlamaCppModel implements LoadedModel {
  readonly capabilities: ModelCapabilities;
  private readonly pool: SequencePool;
  /** Only where sequences can share a decode. */
  private readonly gate: StepGate | undefined;
  private readonly chatWrapper: ChatWrapper | undefined;
  private readonly tokenBytes: (token: Token) => number[] | undefined;
  private unloading: Promise<void> | undefined;

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly memoryBytes: number,
    parallelSequences: number,
  ) {
    this.pool = new SequencePool(context, parallelSequences);
    this.gate = parallelSequences > 1 ? new StepGate() : undefined;
    this.chatWrapper = chatWrapperFor(model);
    this.tokenBytes = vocabularyBytes(model);
    const { prefix, suffix, middle } = model.tokens.infill;
    this.capabilities = {
      chat: true,
      fim: prefix !== null && suffix !== null && middle !== null,
      logprobs: true,
      contextLength: context.contextSize,
    };
  }

  /** Sequences in use and requests waiting for one (for metrics and tests). */
  get sequenceStats(): { active: number; queued: number; size: number } {
    return this.pool.stats;
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    let text = "";
    const tokens: TokenProbability[] | undefined = request.logprobs ? [] : undefined;
    let finishReason: FinishReason = "stop";
    let usage = { promptTokens: 0, completionTokens: 0 };
    for await (const chunk of this.stream(request)) {
      text += chunk.text;
      if (chunk.tokens !== undefined) tokens?.push(...chunk.tokens);
      if (chunk.finishReason !== undefined) finishReason = chunk.finishReason;
      if (chunk.usage !== undefined) usage = chunk.usage;
    }
    return { text, finishReason, usage, ...(tokens && { tokens }) };
  }

  async *stream(request: GenerationRequest): AsyncIterable<GenerationChunk> {
    this.assertLoaded();
    const contextSize = this.context.contextSize;
    const maxTokens = request.sampling?.maxTokens;
    if (maxTokens !== undefined && maxTokens < 1) throw invalidRequest("maxTokens must be at least 1");
    // FIM input is trimmed to leave room for the answer; other inputs must fit as they are.
    const reserve = Math.min(maxTokens ?? Math.floor(contextSize / 4), Math.floor(contextSize / 2));
    const prompt = buildPrompt(this.model, this.chatWrapper, request.input, contextSize - reserve);
    if (prompt.tokens.length === 0) throw invalidRequest("the prompt is empty");
    if (prompt.tokens.length >= contextSize) {
      throw invalidRequest(
        `the prompt is ${prompt.tokens.length} tokens but the model's context holds ${contextSize}; shorten the input`,
      );
    }

    let sequence: Awaited<ReturnType<SequencePool["acquire"]>>;
    try {
      sequence = await this.pool.acquire(request.signal);
    } catch (err) {
      if (request.signal?.aborted) {
        yield { text: "", finishReason: "cancelled", usage: { promptTokens: 0, completionTokens: 0 } };
        return;
      }
      throw err;
    }
    try {
      yield* generateChunks({
        model: this.model,
        sequence,
        prompt,
        sampling: request.sampling ?? {},
        maxNewTokens: Math.min(maxTokens ?? Number.POSITIVE_INFINITY, contextSize - prompt.tokens.length),
        logprobs: request.logprobs === true,
        topLogprobs: request.topLogprobs ?? 0,
        tokenBytes: this.tokenBytes,
        signal: request.signal,
        startStep: this.stepStarter(sequence),
        onSequenceIdle: () => this.pool.release(sequence),
      });
    } catch (err) {
      if (this.unloading !== undefined) throw unloadedError();
      throw err;
    }
  }

  /** Disposes the context (all sequences) and the model; idempotent. */
  unload(): Promise<void> {
    this.unloading ??= (async () => {
      this.pool.close(unloadedError());
      await this.context.dispose();
      await this.model.dispose();
    })();
    return this.unloading;
  }

  private stepStarter(sequence: LlamaContextSequence): GenerationRun["startStep"] {
    const gate = this.gate;
    if (gate === undefined) return (evaluate) => evaluate();
    const seat = this.pool.seatOf(sequence);
    return (evaluate) => gate.step(seat, evaluate);
  }

  private assertLoaded(): void {
    if (this.unloading !== undefined) throw unloadedError();
  }
}

function unloadedError(): ApiError {
  return new ApiError("MODEL_NOT_LOADED", "the model was unloaded");
}
