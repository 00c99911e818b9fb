import type { ChatCompletion } from "openai/resources/chat/completions";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CallAbort } from "../../../src/engine/providers/call-abort.js";
import { OpenAICompatibleProvider } from "../../../src/engine/providers/openai-compatible/index.js";
import { chatResult } from "../../../src/engine/providers/openai-compatible/wire.js";
import type { LoadedModel } from "../../../src/engine/providers/provider.js";
import {
  type ScriptedUpstream,
  scriptedAlternative,
  scriptedLogprob,
  splitIntoTokens,
  startScriptedUpstream,
} from "../../helpers/scripted-upstream/index.js";
import { chat, collect, expectApiError, FAST, within } from "./remote-test-kit.js";

describe("openai-compatible provider", () => {
  let upstream: ScriptedUpstream;
  let model: LoadedModel;

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ models: ["coder", "other"], contextLength: 16_384 });
  });
  afterAll(async () => {
    await upstream.close();
  });
  beforeEach(async () => {
    upstream.reset();
    model = await new OpenAICompatibleProvider({
      baseUrl: upstream.url,
      apiKey: "sk-test",
      model: "coder",
      fim: true,
      ...FAST,
    }).load();
  });
  afterEach(async () => {
    await model.unload();
    // Any socket still carrying an exchange now is one the provider leaked.
    expect(await upstream.waitForNoLeakedSockets(1_000)).toBe(true);
  });

  it("load checks the model is listed and reads its context length", async () => {
    expect(model.capabilities).toEqual({ chat: true, fim: true, logprobs: true, contextLength: 16_384 });
    expect(model.memoryBytes).toBe(0);
    const listing = upstream.requestsTo("models")[0];
    expect(listing?.headers.authorization).toBe("Bearer sk-test");
  });

  it("load fails clearly when the server does not serve the model", async () => {
    const provider = new OpenAICompatibleProvider({
      baseUrl: `${upstream.url}/v1`,
      model: "missing",
      ...FAST,
    });
    const error = await expectApiError(provider.load(), "UPSTREAM_ERROR");
    expect(error.message).toContain('model "missing" is not served');
    expect(error.message).toContain("coder, other");
    expect(error.details).toMatchObject({ status: 404, available: ["coder", "other"] });
  });

  it("generates a chat answer with usage and sends the sampling parameters", async () => {
    upstream.script("chat", { reply: "def add(a, b):\n    return a + b" });
    const result = await model.generate({
      input: {
        kind: "chat",
        messages: [
          { role: "system", content: "You write Python." },
          { role: "user", content: "add two numbers" },
        ],
      },
      sampling: { maxTokens: 64, temperature: 0.2, topP: 0.9, stop: ["\n\n\n"], seed: 7 },
    });
    expect(result).toEqual({
      text: "def add(a, b):\n    return a + b",
      finishReason: "stop",
      usage: { promptTokens: 6, completionTokens: 7 },
    });
    const body = upstream.requestsTo("chat")[0]?.body;
    expect(body).toMatchObject({
      model: "coder",
      messages: [
        { role: "system", content: "You write Python." },
        { role: "user", content: "add two numbers" },
      ],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ["\n\n\n"],
      seed: 7,
    });
    expect(body?.stream).toBeFalsy();
  });

  it("maps max_tokens cuts to finishReason length", async () => {
    upstream.script("chat", { reply: "one two three four five" });
    const result = await model.generate(chat("count", { sampling: { maxTokens: 2 } }));
    expect(result.text).toBe("one two");
    expect(result.finishReason).toBe("length");
  });

  it("streams chat text, then one final chunk with finish reason and usage", async () => {
    upstream.script("chat", { reply: "Hello there, world", chunkDelayMs: 5 });
    const { chunks, text, last } = await collect(model.stream(chat("hi")));
    expect(text).toBe("Hello there, world");
    expect(chunks.slice(0, -1).map((c) => c.text)).toEqual(["Hello", " there,", " world"]);
    expect(last).toEqual({ text: "", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 3 } });
    expect(upstream.requestsTo("chat")[0]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("reports chat logprobs, generated and streamed", async () => {
    const reply = "return x * 2";
    const expected = splitIntoTokens(reply).map((token, i) => ({ token, logprob: scriptedLogprob(i) }));
    upstream.always("chat", { reply });
    const result = await model.generate(chat("double", { logprobs: true }));
    expect(result.tokens).toEqual(expected);
    expect(upstream.requestsTo("chat")[0]?.body.logprobs).toBe(true);
    const { chunks } = await collect(model.stream(chat("double", { logprobs: true })));
    expect(chunks.flatMap((c) => c.tokens ?? [])).toEqual(expected);
    const plain = await model.generate(chat("double"));
    expect(plain.tokens).toBeUndefined();
  });

  it("asks for and reports the most likely alternatives, chat and legacy completions", async () => {
    const reply = "return x";
    const tokens = splitIntoTokens(reply);
    const expected = tokens.map((token, i) => ({
      token,
      logprob: scriptedLogprob(i),
      top: [0, 1, 2].map((k) => ({
        token: k === 0 ? token : scriptedAlternative(token, k),
        logprob: scriptedLogprob(i) - k,
      })),
    }));
    upstream.always("chat", { reply });
    const result = await model.generate(chat("double", { logprobs: true, topLogprobs: 3 }));
    expect(result.tokens).toEqual(expected);
    expect(upstream.requestsTo("chat")[0]?.body).toMatchObject({ logprobs: true, top_logprobs: 3 });
    const { chunks } = await collect(model.stream(chat("double", { logprobs: true, topLogprobs: 3 })));
    expect(chunks.flatMap((c) => c.tokens ?? [])).toEqual(expected);

    upstream.always("completions", { reply });
    const legacy = await model.generate({
      input: { kind: "completion", prompt: "hello" },
      logprobs: true,
      topLogprobs: 3,
    });
    // The legacy API answers alternatives keyed by text; they come back most likely first.
    expect(legacy.tokens).toEqual(expected);
    expect(upstream.requestsTo("completions")[0]?.body).toMatchObject({ logprobs: 3 });
  });

  it("keeps an upstream's token bytes where the token's text lost them", () => {
    const entry = (token: string, logprob: number, bytes: number[]) => ({
      token,
      logprob,
      bytes,
      top_logprobs: [],
    });
    const answer = {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 0,
      model: "m",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "中a", refusal: null },
          finish_reason: "stop",
          logprobs: {
            // "中" (E4 B8 AD) in two tokens, each read as U+FFFD.
            content: [
              entry("\uFFFD", -0.1, [0xe4]),
              entry("\uFFFD", -0.2, [0xb8, 0xad]),
              entry("a", -0.3, [0x61]),
            ],
            refusal: null,
          },
        },
      ],
    } as unknown as ChatCompletion;
    expect(chatResult(answer, true).tokens).toEqual([
      { token: "\uFFFD", logprob: -0.1, bytes: [0xe4] },
      { token: "\uFFFD", logprob: -0.2, bytes: [0xb8, 0xad] },
      { token: "a", logprob: -0.3 },
    ]);
  });

  it("completes raw prompts on /v1/completions with logprobs: 1", async () => {
    upstream.script("completions", { reply: " world" }, { reply: " again" });
    const result = await model.generate({ input: { kind: "completion", prompt: "hello" }, logprobs: true });
    expect(result.text).toBe(" world");
    expect(result.tokens).toEqual([{ token: " world", logprob: scriptedLogprob(0) }]);
    expect(upstream.requestsTo("completions")[0]?.body).toMatchObject({ prompt: "hello", logprobs: 1 });
    const streamed = await collect(
      model.stream({ input: { kind: "completion", prompt: "hello" }, logprobs: true }),
    );
    expect(streamed.text).toBe(" again");
    expect(streamed.chunks[0]?.tokens).toEqual([{ token: " again", logprob: scriptedLogprob(0) }]);
    expect(streamed.last?.usage).toEqual({ promptTokens: 1, completionTokens: 1 });
  });

  it("sends FIM as prompt + suffix", async () => {
    upstream.always("completions", { reply: "a + b" });
    const input = {
      kind: "fim",
      prefix: "def add(a, b):\n    return ",
      suffix: "\n\nprint(add(1, 2))",
    } as const;
    const result = await model.generate({ input });
    expect(result.text).toBe("a + b");
    await collect(model.stream({ input }));
    for (const request of upstream.requestsTo("completions")) {
      expect(request.body).toMatchObject({ prompt: input.prefix, suffix: input.suffix });
    }
  });

  it("rejects FIM for a model without suffix support", async () => {
    const plain = await new OpenAICompatibleProvider({
      baseUrl: upstream.url,
      model: "coder",
      ...FAST,
    }).load();
    await expectApiError(
      plain.generate({ input: { kind: "fim", prefix: "a", suffix: "b" } }),
      "INVALID_REQUEST",
    );
    expect(upstream.requestsTo("completions")).toHaveLength(0);
    await plain.unload();
  });

  it("succeeds when injected latency stays within the timeouts", async () => {
    upstream.script("chat", { latencyMs: 200, reply: "slow but fine" });
    upstream.script("chat", { latencyMs: 200, chunkDelayMs: 150, reply: "slow stream ok" });
    expect((await model.generate(chat("x"))).text).toBe("slow but fine");
    expect((await collect(model.stream(chat("x")))).text).toBe("slow stream ok");
  });

  it("cancellation mid-stream closes the upstream connection and ends with finishReason cancelled", async () => {
    upstream.script("chat", { reply: "a b c d e f g h i j", chunkDelayMs: 50 });
    const controller = new AbortController();
    const chunks = [];
    for await (const chunk of model.stream(chat("long", { signal: controller.signal }))) {
      chunks.push(chunk);
      if (chunks.length === 2) controller.abort();
    }
    expect(chunks.at(-1)).toEqual({
      text: "",
      finishReason: "cancelled",
      usage: { promptTokens: 0, completionTokens: 0 },
    });
    const [request] = upstream.requestsTo("chat");
    expect(await within(request!.ended, 1_000)).toBe("client-closed");
    expect(request?.aborted).toBe(true);
  });

  it("a consumer that stops reading (break) also closes the upstream connection", async () => {
    upstream.script("chat", { reply: "a b c d e f g h i j", chunkDelayMs: 50 });
    for await (const _ of model.stream(chat("long"))) break;
    const [request] = upstream.requestsTo("chat");
    expect(await within(request!.ended, 1_000)).toBe("client-closed");
  });

  it("cancelling a non-streaming generate aborts the upstream request", async () => {
    upstream.script("chat", { latencyMs: 5_000 });
    const controller = new AbortController();
    const pending = model.generate(chat("x", { signal: controller.signal }));
    await upstream.waitForRequests("chat", 1);
    controller.abort();
    expect(await within(pending, 1_000)).toMatchObject({ finishReason: "cancelled", text: "" });
    expect(await within(upstream.requestsTo("chat")[0]!.ended, 1_000)).toBe("client-closed");
  });

  it("unload aborts in-flight requests and refuses new ones", async () => {
    upstream.script("chat", { reply: "a b c d e f", chunkDelayMs: 100 });
    const iterator = model.stream(chat("x"))[Symbol.asyncIterator]();
    await iterator.next();
    await model.unload();
    const rest = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.at(-1)?.finishReason).toBe("cancelled");
    expect(await within(upstream.requestsTo("chat")[0]!.ended, 1_000)).toBe("client-closed");
    await expectApiError(model.generate(chat("again")), "MODEL_NOT_LOADED");
  });

  describe("passthrough", () => {
    const body = (stream: boolean) => ({
      model: "ignored",
      messages: [{ role: "user", content: "x" }],
      stream,
    });

    it("an unload before the upstream answers fails it with MODEL_NOT_LOADED and closes the connection", async () => {
      upstream.script("chat", { latencyMs: 5_000 });
      const abort = new CallAbort();
      const pending = model.passthrough?.("chat/completions", body(false), abort);
      await upstream.waitForRequests("chat", 1);
      await model.unload();
      await expectApiError(within(pending!, 1_000), "MODEL_NOT_LOADED");
      expect(abort.signal.aborted).toBe(true);
      expect(await within(upstream.requestsTo("chat")[0]!.ended, 1_000)).toBe("client-closed");
      // Sent with the upstream's own model name.
      expect(upstream.requestsTo("chat")[0]?.body.model).toBe("coder");
    });

    it("an unload while the body streams closes the connection; a released call is left alone", async () => {
      upstream.script("chat", { reply: "a b c d e f", chunkDelayMs: 100 });
      const abort = new CallAbort();
      const answer = await model.passthrough!("chat/completions", body(true), abort);
      const chunks = answer.body[Symbol.asyncIterator]();
      await chunks.next();
      await model.unload();
      await expect(within(drain(chunks), 1_000)).rejects.toThrow();
      expect(await within(upstream.requestsTo("chat")[0]!.ended, 1_000)).toBe("client-closed");
    });

    it("a caller's abort rejects with the caller's reason, and leaves the model serving", async () => {
      upstream.script("chat", { latencyMs: 5_000 }, {});
      const abort = new CallAbort();
      const pending = model.passthrough!("chat/completions", body(false), abort);
      await upstream.waitForRequests("chat", 1);
      const reason = new Error("client went away");
      abort.abort(reason);
      await expect(within(pending, 1_000)).rejects.toBe(reason);
      const next = await model.passthrough!("chat/completions", body(false), new CallAbort());
      expect(next.status).toBe(200);
      await drain(next.body[Symbol.asyncIterator]());
    });
  });
});

async function drain(chunks: AsyncIterator<Uint8Array>): Promise<void> {
  while (!(await chunks.next()).done) {
    // read to the end
  }
}
