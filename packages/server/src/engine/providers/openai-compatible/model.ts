import type OpenAI from "openai";
import { invalidRequest } from "../../../errors.js";
import type { CallAbort } from "../call-abort.js";
import type {
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
  LoadedModel,
  ModelCapabilities,
  PassthroughAnswer,
  PassthroughPath,
} from "../provider.js";
import type { RequestTarget, UpstreamResponse } from "../remote/http-post.js";
import { type RemoteCaller, UpstreamCallCancelled } from "../remote/remote-call.js";
import { chunksOrCancelled, RemoteModelLifetime, resultOrCancelled } from "../remote/remote-model.js";
import { assembleStream, type StreamPiece } from "../remote/stream-assembly.js";
import {
  chatBody,
  chatPiece,
  chatResult,
  completionBody,
  completionPiece,
  completionResult,
} from "./wire.js";
import { forwardOnce, passthroughAnswer, passthroughTargets } from "./passthrough.js";

export interface OpenAICompatibleModelSettings {
  model: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/**
 * A model served by an OpenAI-compatible server (vLLM, Ollama, llama.cpp server, OpenAI, …).
 *
 * Cancellation: aborting `request.signal` closes the upstream connection (the server stops
 * generating) and is not an error — `stream` ends with `{ text: "", finishReason: "cancelled" }`
 * and `generate` resolves with `finishReason: "cancelled"`.
 */
export class OpenAICompatibleModel implements LoadedModel {
  readonly memoryBytes = 0;
  private readonly lifetime: RemoteModelLifetime;
  private readonly targets: Record<PassthroughPath, RequestTarget>;

  constructor(
    private readonly client: OpenAI,
    private readonly caller: RemoteCaller,
    readonly capabilities: ModelCapabilities,
    private readonly settings: OpenAICompatibleModelSettings,
  ) {
    this.lifetime = new RemoteModelLifetime(settings.model);
    this.targets = passthroughTargets(client.baseURL);
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    this.checkSupported(request);
    const link = this.lifetime.link(request.signal);
    try {
      // Non-streaming servers send headers only once the whole answer is ready, so the wait
      // for headers is bounded by the read timeout, not the connect timeout.
      const options = { signal: link.signal, responseTimeoutMs: this.settings.readTimeoutMs };
      return await resultOrCancelled(() =>
        this.caller.call(() => this.generateOnce(request, link.signal), options),
      );
    } finally {
      link.release();
    }
  }

  async *stream(request: GenerationRequest): AsyncGenerator<GenerationChunk> {
    this.checkSupported(request);
    const link = this.lifetime.link(request.signal);
    try {
      const options = { signal: link.signal, responseTimeoutMs: this.settings.connectTimeoutMs };
      yield* chunksOrCancelled(
        this.caller.stream(() => assembleStream(this.piecesOnce(request, link.signal)), options),
      );
    } finally {
      link.release();
    }
  }

  /**
   * The client's OpenAI body as it is (`model` rewritten), the upstream's response as it is: no
   * chunk is parsed. Retried like `generate` until the upstream answers (nothing reached the
   * caller yet); once it did, the connection lives until the body ends or is cancelled, and an
   * abort of the caller's `abort` controller or an unload closes it.
   */
  async passthrough(
    path: PassthroughPath,
    body: Record<string, unknown>,
    abort: CallAbort,
  ): Promise<PassthroughAnswer> {
    const release = this.lifetime.track(abort);
    // As in generate/stream: a non-streaming server sends its headers only once the answer is done.
    const timeout = body.stream === true ? this.settings.connectTimeoutMs : this.settings.readTimeoutMs;
    const forwarded = { ...body, model: this.settings.model };
    let response: UpstreamResponse;
    try {
      response = await this.caller.call(
        () =>
          forwardOnce(this.client, this.targets[path], forwarded, {
            abort,
            timeout,
            readTimeoutMs: this.settings.readTimeoutMs,
          }),
        // Read only once an attempt failed (a cancellation? a backoff to cut short?): the signal
        // is not created on the way of a request that succeeds (call-abort.ts).
        {
          get signal() {
            return abort.signal;
          },
          responseTimeoutMs: timeout,
        },
      );
    } catch (err) {
      release();
      // Cancelled by the caller (nobody waits for the answer) or by an unload (MODEL_NOT_LOADED).
      throw err instanceof UpstreamCallCancelled && abort.aborted ? abort.signal.reason : err;
    }
    return passthroughAnswer(response, release);
  }

  async unload(): Promise<void> {
    this.lifetime.unload();
  }

  private checkSupported(request: GenerationRequest): void {
    const kind = request.input.kind;
    if (kind === "chat" && !this.capabilities.chat) {
      throw invalidRequest(`model "${this.settings.model}" does not support chat; send a completion prompt`);
    }
    if (kind === "fim" && !this.capabilities.fim) {
      throw invalidRequest(`model "${this.settings.model}" does not support fill-in-the-middle (suffix)`);
    }
  }

  private async generateOnce(request: GenerationRequest, signal: AbortSignal): Promise<GenerationResult> {
    const options = { signal, timeout: this.settings.readTimeoutMs };
    const wantTokens = request.logprobs === true;
    const top = wantTokens ? (request.topLogprobs ?? 0) : 0;
    const { input } = request;
    const { model } = this.settings;
    if (input.kind === "chat") {
      const body = { ...chatBody(model, input.messages, request), stream: false as const };
      return chatResult(await this.client.chat.completions.create(body, options), wantTokens, top);
    }
    const [prompt, suffix] = input.kind === "fim" ? [input.prefix, input.suffix] : [input.prompt, undefined];
    const body = { ...completionBody(model, prompt, suffix, request), stream: false as const };
    return completionResult(await this.client.completions.create(body, options), wantTokens, top);
  }

  /** One upstream stream, translated; retries and completeness checks are the callers' job. */
  private async *piecesOnce(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<StreamPiece> {
    const options = { signal, timeout: this.settings.connectTimeoutMs };
    const streaming = { stream: true as const, stream_options: { include_usage: true } };
    const wantTokens = request.logprobs === true;
    const top = wantTokens ? (request.topLogprobs ?? 0) : 0;
    const { input } = request;
    const { model } = this.settings;
    if (input.kind === "chat") {
      const body = { ...chatBody(model, input.messages, request), ...streaming };
      for await (const chunk of await this.client.chat.completions.create(body, options)) {
        yield chatPiece(chunk, wantTokens, top);
      }
      return;
    }
    const [prompt, suffix] = input.kind === "fim" ? [input.prefix, input.suffix] : [input.prompt, undefined];
    const body = { ...completionBody(model, prompt, suffix, request), ...streaming };
    for await (const chunk of await this.client.completions.create(body, options)) {
      yield completionPiece(chunk, wantTokens, top);
    }
  }
}
