import type Anthropic from "@anthropic-ai/sdk";
import { invalidRequest } from "../../../errors.js";
import type { RemoteCaller } from "../remote/remote-call.js";
import { chunksOrCancelled, RemoteModelLifetime, resultOrCancelled } from "../remote/remote-model.js";
import { assembleStream, type StreamPiece } from "../remote/stream-assembly.js";
import type {
  ChatMessage,
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  ModelCapabilities,
} from "../provider.js";
import { MessageStreamTranslator, messageResult, messagesBody } from "./wire.js";

export interface AnthropicModelSettings {
  model: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  maxTokensDefault: number;
}

/**
 * A Claude model behind the Messages API: chat only, no logprobs, no FIM. Cancellation works
 * as for OpenAICompatibleModel: the connection closes and the answer ends "cancelled".
 */
export class AnthropicModel implements LoadedModel {
  readonly memoryBytes = 0;
  private readonly lifetime: RemoteModelLifetime;

  constructor(
    private readonly client: Anthropic,
    private readonly caller: RemoteCaller,
    readonly capabilities: ModelCapabilities,
    private readonly settings: AnthropicModelSettings,
  ) {
    this.lifetime = new RemoteModelLifetime(settings.model);
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const messages = this.chatMessages(request);
    const link = this.lifetime.link(request.signal);
    try {
      // A non-streaming answer's headers come only when it is complete: bounded by the read timeout.
      const timeout = this.settings.readTimeoutMs;
      const body = { ...this.body(messages, request), stream: false as const };
      const attempt = async () =>
        messageResult(await this.client.messages.create(body, { signal: link.signal, timeout }));
      return await resultOrCancelled(() =>
        this.caller.call(attempt, { signal: link.signal, responseTimeoutMs: timeout }),
      );
    } finally {
      link.release();
    }
  }

  async *stream(request: GenerationRequest): AsyncGenerator<GenerationChunk> {
    const messages = this.chatMessages(request);
    const link = this.lifetime.link(request.signal);
    try {
      const options = { signal: link.signal, responseTimeoutMs: this.settings.connectTimeoutMs };
      const attempt = () => assembleStream(this.piecesOnce(messages, request, link.signal));
      yield* chunksOrCancelled(this.caller.stream(attempt, options));
    } finally {
      link.release();
    }
  }

  async unload(): Promise<void> {
    this.lifetime.unload();
  }

  /**
   * FIM and raw completions are rejected rather than rewritten into a chat instruction: a chat
   * model "continuing" a prompt is a different task, and silently changing it would hide that
   * from the caller. Capabilities say `fim: false`, so callers can route elsewhere.
   */
  private chatMessages(request: GenerationRequest): ChatMessage[] {
    if (request.input.kind !== "chat") {
      throw invalidRequest(
        `model "${this.settings.model}" (Anthropic) serves chat only; ${request.input.kind === "fim" ? "fill-in-the-middle" : "raw completion"} is not supported`,
      );
    }
    return request.input.messages;
  }

  private body(messages: ChatMessage[], request: GenerationRequest) {
    return messagesBody(
      this.settings.model,
      messages,
      request.sampling ?? {},
      this.settings.maxTokensDefault,
    );
  }

  private async *piecesOnce(
    messages: ChatMessage[],
    request: GenerationRequest,
    signal: AbortSignal,
  ): AsyncGenerator<StreamPiece> {
    const body = { ...this.body(messages, request), stream: true as const };
    const events = await this.client.messages.create(body, {
      signal,
      timeout: this.settings.connectTimeoutMs,
    });
    const translator = new MessageStreamTranslator();
    for await (const event of events) yield translator.piece(event);
  }
}
