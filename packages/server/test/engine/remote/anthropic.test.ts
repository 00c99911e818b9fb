import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AnthropicProvider,
  type AnthropicProviderOptions,
} from "../../../src/engine/providers/anthropic/index.js";
import type { LoadedModel } from "../../../src/engine/providers/provider.js";
import {
  IN_STREAM_ERROR_MESSAGE,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../../helpers/scripted-upstream/index.js";
import { chat, collect, expectApiError, FAST, timed, within } from "./remote-test-kit.js";

describe("anthropic provider", () => {
  let upstream: ScriptedUpstream;
  let model: LoadedModel;

  const load = (options: Partial<AnthropicProviderOptions> = {}) =>
    new AnthropicProvider({
      apiKey: "sk-ant-test",
      model: "claude-test",
      baseUrl: upstream.url,
      timeouts: { connectMs: FAST.connectTimeoutMs, readMs: FAST.readTimeoutMs },
      maxRetries: FAST.maxRetries,
      retryBackoff: FAST.retryBackoff,
      maxTokensDefault: 256,
      ...options,
    }).load();

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ models: ["claude-test"] });
  });
  afterAll(async () => {
    await upstream.close();
  });
  beforeEach(async () => {
    upstream.reset();
    model = await load();
  });
  afterEach(async () => {
    await model.unload();
    expect(await upstream.waitForNoLeakedSockets(1_000)).toBe(true);
  });

  it("load checks the key and model; capabilities say chat only", async () => {
    expect(model.capabilities).toEqual({ chat: true, fim: false, logprobs: false, contextLength: 200_000 });
    const lookup = upstream.requestsTo("model")[0];
    expect(lookup?.path).toBe("/v1/models/claude-test");
    // SDK 1.x sends the API key as a bearer token.
    expect(lookup?.headers.authorization).toBe("Bearer sk-ant-test");
    const error = await expectApiError(load({ model: "claude-nope" }), "UPSTREAM_ERROR");
    expect(error.message).toContain('does not know model "claude-nope"');
  });

  it("generates with system mapped to `system`, stop sequences and usage", async () => {
    upstream.script("messages", { reply: "x = 1\nEND more" });
    const result = await model.generate({
      input: {
        kind: "chat",
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "write code" },
        ],
      },
      sampling: { temperature: 1.7, topP: 0.5, stop: ["END"] },
    });
    expect(result).toEqual({
      text: "x = 1\n",
      finishReason: "stop",
      usage: { promptTokens: 4, completionTokens: 4 },
    });
    expect(result.tokens).toBeUndefined();
    const body = upstream.requestsTo("messages")[0]?.body;
    expect(body).toEqual({
      model: "claude-test",
      max_tokens: 256,
      system: "Be terse.",
      messages: [{ role: "user", content: "write code" }],
      stop_sequences: ["END"],
      // Clamped to Anthropic's 0..1, and top_p dropped because temperature is set.
      temperature: 1,
      stream: false,
    });
  });

  it("maps max_tokens to finishReason length", async () => {
    upstream.script("messages", { reply: "a b c d" });
    const result = await model.generate(chat("x", { sampling: { maxTokens: 2 } }));
    expect(result).toMatchObject({ text: "a b", finishReason: "length" });
  });

  it("streams text deltas, then a final chunk with usage", async () => {
    upstream.script("messages", { reply: "Hello from Claude", chunkDelayMs: 5 });
    const { chunks, text, last } = await collect(model.stream(chat("hi")));
    expect(text).toBe("Hello from Claude");
    expect(chunks.slice(0, -1).map((c) => c.text)).toEqual(["Hello", " from", " Claude"]);
    expect(last).toEqual({ text: "", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 3 } });
  });

  it("rejects FIM and raw completions with INVALID_REQUEST, without calling upstream", async () => {
    await expectApiError(
      model.generate({ input: { kind: "fim", prefix: "a", suffix: "b" } }),
      "INVALID_REQUEST",
    );
    await expectApiError(
      collect(model.stream({ input: { kind: "completion", prompt: "a" } })),
      "INVALID_REQUEST",
    );
    expect(upstream.requestsTo("messages")).toHaveLength(0);
  });

  it("succeeds when injected latency stays within the timeouts", async () => {
    upstream.script(
      "messages",
      { latencyMs: 200, reply: "late" },
      { latencyMs: 200, chunkDelayMs: 150, reply: "late stream" },
    );
    expect((await model.generate(chat("x"))).text).toBe("late");
    expect((await collect(model.stream(chat("x")))).text).toBe("late stream");
  });

  it("retries 500 and 529 (overloaded), then succeeds", async () => {
    upstream.script("messages", { status: 500 }, { status: 529 }, { reply: "finally" });
    expect((await model.generate(chat("x"))).text).toBe("finally");
    expect(upstream.requestsTo("messages")).toHaveLength(3);
  });

  it("honours Retry-After: 1 on 429", async () => {
    upstream.script("messages", { status: 429, retryAfter: 1 }, { reply: "waited" });
    const { ms, value } = await timed(() => collect(model.stream(chat("x"))));
    expect(value?.text).toBe("waited");
    expect(ms).toBeGreaterThanOrEqual(950);
  });

  it("429 forever → RATE_LIMIT_EXCEEDED with retry_after", async () => {
    upstream.always("messages", { status: 429, retryAfter: 2, errorMessage: "slow down" });
    const error = await expectApiError(
      load({ retryBackoff: { ...FAST.retryBackoff, maxRetryAfterMs: 1_000 } }).then((m) =>
        m.generate(chat("x")),
      ),
      "RATE_LIMIT_EXCEEDED",
    );
    expect(error.details).toMatchObject({ retry_after_seconds: 2, provider: "anthropic" });
  });

  it("connection reset → retried, then UPSTREAM_ERROR", async () => {
    upstream.always("messages", { fault: "reset-before-headers" });
    await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(upstream.requestsTo("messages")).toHaveLength(3);
  });

  it("a stream without message_stop is UPSTREAM_ERROR, not a short answer", async () => {
    upstream.always("messages", { fault: "truncate", afterChunks: 1, reply: "one two three" });
    const error = await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
    expect(error.message).toContain("truncated");
  });

  it("an `event: error` (overloaded) mid-stream: retried before any text, UPSTREAM_ERROR after", async () => {
    upstream.script("messages", { fault: "error-event", afterChunks: 0 }, { reply: "second wind" });
    expect((await collect(model.stream(chat("x")))).text).toBe("second wind");
    upstream.script("messages", { fault: "error-event", afterChunks: 1 });
    const error = await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({ upstream_message: IN_STREAM_ERROR_MESSAGE });
  });

  it("garbage JSON is UPSTREAM_ERROR", async () => {
    upstream.always("messages", { fault: "garbage" });
    await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
  });

  it("an error body is reported with its message", async () => {
    upstream.always("messages", { status: 400, errorMessage: "prompt is too long" });
    const error = await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({ status: 400, upstream_message: "prompt is too long" });
  });

  it("a stalled stream is UPSTREAM_TIMEOUT within the read timeout plus a small margin", async () => {
    upstream.always("messages", { fault: "stall", afterChunks: 1 });
    const { ms, error } = await timed(() => collect(model.stream(chat("x"))));
    await expectApiError(Promise.reject(error), "UPSTREAM_TIMEOUT");
    expect(ms).toBeLessThan(FAST.readTimeoutMs + 400);
    expect(await within(upstream.requestsTo("messages")[0]!.ended, 1_000)).toBe("client-closed");
  });

  it("cancellation mid-stream is seen by the upstream within a second", async () => {
    upstream.script("messages", { reply: "a b c d e f g h", chunkDelayMs: 50 });
    const controller = new AbortController();
    const chunks = [];
    for await (const chunk of model.stream(chat("x", { signal: controller.signal }))) {
      chunks.push(chunk);
      if (chunks.length === 1) controller.abort();
    }
    expect(chunks.at(-1)?.finishReason).toBe("cancelled");
    expect(await within(upstream.requestsTo("messages")[0]!.ended, 1_000)).toBe("client-closed");
  });
});
