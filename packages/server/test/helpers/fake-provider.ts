import { setTimeout as sleep } from "node:timers/promises";
import type {
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  LoadOptions,
  ModelProvider,
} from "../../src/engine/providers/provider.js";

export interface FakeProviderOptions {
  loadMs?: number;
  sizeBytes?: number;
  fail?: Error;
  /** Simulates a runtime that does not react to the abort signal. */
  ignoreAbort?: boolean;
}

/**
 * A test double of a provider for registry tests: loads take `loadMs`, "memory" is
 * `sizeBytes`, and every call is recorded so tests can assert order and coalescing.
 */
export class FakeProvider implements ModelProvider {
  readonly kind = "llama-cpp" as const;
  loads = 0;
  unloads = 0;
  lastSignal: AbortSignal | undefined;

  constructor(
    readonly id: string,
    private readonly options: FakeProviderOptions = {},
    private readonly journal: string[] = [],
  ) {}

  async estimateSizeBytes(): Promise<number | undefined> {
    return this.options.sizeBytes ?? 0;
  }

  async load(options: LoadOptions = {}): Promise<LoadedModel> {
    this.loads += 1;
    this.lastSignal = options.signal;
    this.journal.push(`load:${this.id}`);
    options.onProgress?.({ phase: "load", fraction: 0.5 });
    await sleep(
      this.options.loadMs ?? 5,
      undefined,
      this.options.ignoreAbort ? {} : { signal: options.signal },
    );
    if (this.options.fail !== undefined) throw this.options.fail;
    const { id } = this;
    const onUnload = () => {
      this.unloads += 1;
      this.journal.push(`unload:${id}`);
    };
    return {
      capabilities: { chat: true, fim: false, logprobs: false, contextLength: 2048 },
      memoryBytes: this.options.sizeBytes ?? 0,
      async generate(_request: GenerationRequest): Promise<GenerationResult> {
        return {
          text: `hello from ${id}`,
          finishReason: "stop",
          usage: { promptTokens: 1, completionTokens: 3 },
        };
      },
      async *stream(_request: GenerationRequest): AsyncIterable<GenerationChunk> {
        yield { text: "hello", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
      },
      async unload() {
        onUnload();
      },
    };
  }
}
