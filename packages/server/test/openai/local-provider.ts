import { setTimeout as sleep } from "node:timers/promises";
import type {
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  ModelProvider,
} from "../../src/engine/providers/provider.js";
import { upstreamError } from "../../src/engine/upstream-errors.js";
import { scriptedLogprob, splitIntoTokens } from "../helpers/scripted-upstream/index.js";

/** What the next requests to a local model do; tests change it between requests. */
export interface LocalBehaviour {
  reply: string;
  chunkDelayMs: number;
  /** Throw an UPSTREAM_ERROR after this many streamed chunks. */
  failAfterChunks?: number;
}

/** How a stream the model served ended, and when (for "cancelled within a second" checks). */
export interface StreamEnding {
  reason: "finished" | "cancelled" | "failed";
  at: number;
}

export const LOCAL_REPLY = "def add(a, b):\n    return a + b";

/**
 * A provider that is not OpenAI-compatible (no `passthrough`), so requests take the translated
 * path: deterministic tokens with logprobs, a configurable delay between chunks, an optional
 * failure mid-stream, and a record of every request and of how each stream ended.
 */
export class LocalProvider implements ModelProvider {
  readonly kind = "llama-cpp" as const;
  readonly requests: GenerationRequest[] = [];
  readonly endings: StreamEnding[] = [];
  behaviour: LocalBehaviour = { reply: LOCAL_REPLY, chunkDelayMs: 0 };

  constructor(private readonly options: { fim: boolean }) {}

  async estimateSizeBytes(): Promise<number> {
    return 0;
  }

  reset(): void {
    this.requests.length = 0;
    this.endings.length = 0;
    this.behaviour = { reply: LOCAL_REPLY, chunkDelayMs: 0 };
  }

  async load(): Promise<LoadedModel> {
    const { requests, endings } = this;
    const behaviour = () => this.behaviour;
    const tokensOf = (request: GenerationRequest) => {
      const pieces = splitIntoTokens(behaviour().reply);
      const max = request.sampling?.maxTokens ?? Number.POSITIVE_INFINITY;
      const kept = pieces.slice(0, max);
      return { kept, finishReason: kept.length < pieces.length ? ("length" as const) : ("stop" as const) };
    };
    return {
      capabilities: { chat: true, fim: this.options.fim, logprobs: true, contextLength: 4096 },
      memoryBytes: 0,
      async generate(request: GenerationRequest): Promise<GenerationResult> {
        requests.push(request);
        const { kept, finishReason } = tokensOf(request);
        return {
          text: kept.join(""),
          finishReason,
          usage: { promptTokens: 7, completionTokens: kept.length },
          ...(request.logprobs
            ? { tokens: kept.map((token, i) => ({ token, logprob: scriptedLogprob(i) })) }
            : {}),
        };
      },
      async *stream(request: GenerationRequest): AsyncIterable<GenerationChunk> {
        requests.push(request);
        const { chunkDelayMs, failAfterChunks } = behaviour();
        const { kept, finishReason } = tokensOf(request);
        const end = (reason: StreamEnding["reason"]) => endings.push({ reason, at: Date.now() });
        for (const [i, token] of kept.entries()) {
          if (i === failAfterChunks) {
            end("failed");
            throw upstreamError("the local runtime crashed mid-answer");
          }
          try {
            await sleep(chunkDelayMs, undefined, { signal: request.signal });
          } catch {
            end("cancelled");
            yield { text: "", finishReason: "cancelled", usage: { promptTokens: 7, completionTokens: i } };
            return;
          }
          yield {
            text: token,
            ...(request.logprobs ? { tokens: [{ token, logprob: scriptedLogprob(i) }] } : {}),
          };
        }
        end("finished");
        yield { text: "", finishReason, usage: { promptTokens: 7, completionTokens: kept.length } };
      },
      async unload() {},
    };
  }
}
