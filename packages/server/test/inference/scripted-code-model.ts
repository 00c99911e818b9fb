import { setTimeout as sleep } from "node:timers/promises";
import type {
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  ModelProvider,
  TokenProbability,
} from "../../src/engine/providers/provider.js";

/** What the model answers next; tests change it between requests. */
export interface ScriptedAnswer {
  /** The text, or a function of the request (e.g. of its seed). */
  reply: string | ((request: GenerationRequest) => string);
  /** Reported per token when the request asks for logprobs and the model reports them. */
  logprobs?: number[] | ((index: number) => number);
  chunkDelayMs?: number;
  /** Thrown after this many streamed chunks. */
  failAfterChunks?: number;
  failWith?: Error;
}

export interface ScriptedCall {
  request: GenerationRequest;
  startedAt: number;
  /** How the call ended, and when (for "cancelled within a second" checks). */
  ending?: { reason: "finished" | "cancelled" | "failed"; at: number };
}

/** Words with their leading whitespace: joined they give the text back exactly. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/**
 * A model test double for the completion pipeline: scripted text split into word tokens,
 * scripted per-token logprobs (or none, like a runtime that cannot report them), FIM or chat
 * only, and a record of every call — its request, how many ran at once, how each ended.
 */
export class ScriptedCodeModel implements ModelProvider {
  readonly kind = "llama-cpp" as const;
  readonly calls: ScriptedCall[] = [];
  answer: ScriptedAnswer = { reply: "return n;" };
  private inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly capabilities: { fim: boolean; logprobs: boolean }) {}

  reset(answer: ScriptedAnswer = { reply: "return n;" }): void {
    this.calls.length = 0;
    this.maxInFlight = 0;
    this.answer = answer;
  }

  async estimateSizeBytes(): Promise<number> {
    return 0;
  }

  async load(): Promise<LoadedModel> {
    return {
      capabilities: { chat: true, ...this.capabilities, contextLength: 4096 },
      memoryBytes: 0,
      generate: async (request) => this.generate(request),
      stream: (request) => this.stream(request),
      unload: async () => {},
    };
  }

  private plan(request: GenerationRequest) {
    const { reply, logprobs } = this.answer;
    const text = typeof reply === "function" ? reply(request) : reply;
    const all = pieces(text);
    const kept = all.slice(0, request.sampling?.maxTokens ?? Number.POSITIVE_INFINITY);
    const logprobOf = (i: number) =>
      typeof logprobs === "function" ? logprobs(i) : (logprobs?.[i % logprobs.length] ?? -0.1);
    const tokens = (from: number, to: number): TokenProbability[] | undefined =>
      request.logprobs && this.capabilities.logprobs
        ? kept.slice(from, to).map((token, j) => ({ token, logprob: logprobOf(from + j) }))
        : undefined;
    return { kept, tokens, finish: kept.length < all.length ? ("length" as const) : ("stop" as const) };
  }

  private generate(request: GenerationRequest): GenerationResult {
    const call: ScriptedCall = { request, startedAt: Date.now() };
    this.calls.push(call);
    const { kept, tokens, finish } = this.plan(request);
    call.ending = { reason: "finished", at: Date.now() };
    const all = tokens(0, kept.length);
    return {
      text: kept.join(""),
      finishReason: finish,
      usage: { promptTokens: 5, completionTokens: kept.length },
      ...(all === undefined ? {} : { tokens: all }),
    };
  }

  private async *stream(request: GenerationRequest): AsyncGenerator<GenerationChunk> {
    const call: ScriptedCall = { request, startedAt: Date.now() };
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const { chunkDelayMs = 0, failAfterChunks, failWith } = this.answer;
    const { kept, tokens, finish } = this.plan(request);
    const end = (reason: "finished" | "cancelled" | "failed") => {
      call.ending ??= { reason, at: Date.now() };
    };
    try {
      for (const [i, token] of kept.entries()) {
        if (failAfterChunks !== undefined && i === failAfterChunks) {
          end("failed");
          throw failWith ?? new Error("scripted failure");
        }
        // Yield to the event loop even without a delay, as a real runtime would.
        await sleep(chunkDelayMs, undefined, request.signal ? { signal: request.signal } : {}).catch(
          () => {},
        );
        if (request.signal?.aborted) {
          end("cancelled");
          yield { text: "", finishReason: "cancelled", usage: { promptTokens: 5, completionTokens: i } };
          return;
        }
        const chunkTokens = tokens(i, i + 1);
        yield { text: token, ...(chunkTokens === undefined ? {} : { tokens: chunkTokens }) };
      }
      end("finished");
      yield { text: "", finishReason: finish, usage: { promptTokens: 5, completionTokens: kept.length } };
    } finally {
      // Closed early by the consumer (a client that left, a stop sequence seen downstream).
      end("cancelled");
      this.inFlight -= 1;
    }
  }
}
