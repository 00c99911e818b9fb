/**
 * The OpenAI routes on an OpenAI-compatible model: the client's body goes upstream with only
 * `model` rewritten, and the upstream's bytes come back as they were sent.
 */
import type OpenAI from "openai";
import { APIError, APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ModelRequestRecord } from "../../src/store/model-repository.js";
import {
  DEFAULT_REPLY,
  IN_STREAM_ERROR_MESSAGE,
  splitIntoTokens,
} from "../helpers/scripted-upstream/index.js";
import { type OpenAIFixture, post, startOpenAIFixture, UPSTREAM_MODEL, drainChatStream } from "./fixture.js";

let fixture: OpenAIFixture;
let client: OpenAI;

beforeAll(async () => {
  fixture = await startOpenAIFixture();
  client = fixture.client();
});
afterAll(() => fixture.stop());
afterEach(async () => {
  // Polled: after an aborted request undici opens spare connections a moment later, which the
  // check closes as idle; an exchange still in flight (a real leak) never passes.
  await expect.poll(() => fixture.upstream.waitForNoLeakedSockets(500), { timeout: 3_000 }).toBe(true);
  fixture.upstream.reset();
  vi.restoreAllMocks();
});

/** The upstream answer to `body` when asked directly, bytes as text. */
async function direct(path: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${fixture.upstream.url}/v1/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, model: UPSTREAM_MODEL }),
  });
  return res.text();
}

/** From now on, the model requests the runner records. */
function watchRecords(): () => ModelRequestRecord[] {
  const spy = vi.spyOn(fixture.server.services.store.models, "recordRequest");
  return () => spy.mock.calls.map(([record]) => record);
}

describe("chat through to an OpenAI-compatible upstream", () => {
  it("forwards the client's body with the model renamed, unknown fields included", async () => {
    const completion = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 50,
      temperature: 0.1,
      // Fields this server does not know travel on: the upstream may well support them.
      ...({ top_k: 20, chat_template_kwargs: { enable_thinking: false } } as object),
    });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    const [received] = fixture.upstream.requestsTo("chat");
    expect(received?.body).toEqual({
      model: UPSTREAM_MODEL,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 50,
      temperature: 0.1,
      top_k: 20,
      chat_template_kwargs: { enable_thinking: false },
    });
    // The upstream's own answer, as it sent it.
    expect(completion.id).toBe("chatcmpl-scripted");
  });

  it("passes JSON and SSE bytes through unchanged", async () => {
    const body = { messages: [{ role: "user", content: "hi" }], logprobs: true, max_tokens: 20 };
    for (const stream of [false, true]) {
      const request = { ...body, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) };
      const res = await post(fixture, "/v1/chat/completions", { ...request, model: "remote" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(stream ? "text/event-stream" : "application/json");
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expect(res.headers.get("ratelimit-limit")).not.toBeNull();
      const relayed = await res.text();
      expect(relayed).toBe(await direct("chat/completions", request));
      // A JSON answer keeps the upstream's length (no chunked framing); SSE cannot have one.
      expect(res.headers.get("content-length")).toBe(stream ? null : String(Buffer.byteLength(relayed)));
    }
  });

  it("streams through the client: chunks concatenate, logprobs and usage arrive", async () => {
    const records = watchRecords();
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(DEFAULT_REPLY);
    const tokens = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []).map((t) => t.token);
    expect(tokens).toEqual(splitIntoTokens(DEFAULT_REPLY));
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens).toBe(tokens.length);

    // Recorded like any request, with the usage sniffed from the stream's tail.
    await expect.poll(() => records().length).toBe(1);
    expect(records()[0]).toMatchObject({
      modelId: "remote",
      success: true,
      promptTokens: usage?.prompt_tokens,
      completionTokens: usage?.completion_tokens,
    });
    expect(fixture.server.services.registry.get("remote").inFlight).toBe(0);
  });

  it("holds the model while the stream runs", async () => {
    fixture.upstream.script("chat", { chunkDelayMs: 100 });
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    expect(fixture.server.services.registry.get("remote").inFlight).toBe(1);
    while (!(await iterator.next()).done);
    await expect.poll(() => fixture.server.services.registry.get("remote").inFlight).toBe(0);
  });

  it("a client that disconnects closes the upstream request within a second", async () => {
    fixture.upstream.script("chat", { reply: "word ".repeat(200), chunkDelayMs: 50 });
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "talk" }],
      stream: true,
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) break;
    }
    const [received] = fixture.upstream.requestsTo("chat");
    const started = Date.now();
    const outcome = await Promise.race([
      received?.ended,
      new Promise((r) => setTimeout(r, 1_000, "still open")),
    ]);
    expect(outcome).toBe("client-closed");
    expect(received?.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect.poll(() => fixture.server.services.registry.get("remote").inFlight).toBe(0);
  });

  it("cancels a non-streaming request whose client gave up", async () => {
    fixture.upstream.script("chat", { latencyMs: 5_000 });
    const abort = new AbortController();
    const pending = client.chat.completions.create(
      { model: "remote", messages: [{ role: "user", content: "hi" }] },
      { signal: abort.signal },
    );
    const [received] = await fixture.upstream.waitForRequests("chat", 1);
    abort.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    // Well before the fixture's 600 ms read timeout would close it anyway.
    const outcome = await Promise.race([
      received?.ended,
      new Promise((r) => setTimeout(r, 300, "still open")),
    ]);
    expect(outcome).toBe("client-closed");
  });

  it("relays the upstream's own in-stream error event", async () => {
    fixture.upstream.script("chat", { fault: "error-event", afterChunks: 2 });
    const records = watchRecords();
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _chunk of stream);
      })(),
    ).rejects.toThrow(IN_STREAM_ERROR_MESSAGE);
    await expect.poll(() => records().length).toBe(1);
    expect(records()[0]?.success).toBe(false);
  });

  it.each([
    // A close-delimited body cut by a reset reads as a clean end: truncated, either way an error.
    ["reset-mid-stream", /answer broke off|ended before the model finished/],
    ["truncate", /ended before the model finished/],
  ] as const)("ends a stream the upstream broke (%s) with an error event", async (fault, message) => {
    fixture.upstream.script("chat", { fault, afterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const { received, failure } = await drainChatStream(stream);
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).message).toMatch(message);
    expect(received.join("")).toBe(splitIntoTokens(DEFAULT_REPLY).slice(0, 2).join(""));
  });

  it("ends a stream whose upstream went silent", async () => {
    fixture.upstream.script("chat", { fault: "stall", afterChunks: 1 });
    const stream = await client.chat.completions.create({
      model: "remote",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _chunk of stream);
      })(),
    ).rejects.toThrow(/went silent for more than 600 ms/);
  });
});

describe("completions through to an OpenAI-compatible upstream", () => {
  it("forwards prompt and suffix for fill-in-the-middle", async () => {
    const completion = await client.completions.create({
      model: "remote",
      prompt: "def add(a, b):\n",
      suffix: "\nprint(add(1, 2))",
      max_tokens: 32,
      stop: ["\n\n"],
    });
    expect(completion.choices[0]?.text).toBe(DEFAULT_REPLY);
    expect(fixture.upstream.requestsTo("completions")[0]?.body).toEqual({
      model: UPSTREAM_MODEL,
      prompt: "def add(a, b):\n",
      suffix: "\nprint(add(1, 2))",
      max_tokens: 32,
      stop: ["\n\n"],
    });
  });

  it("streams legacy logprobs as the upstream sent them", async () => {
    const request = { prompt: "x", logprobs: 1, stream: true, max_tokens: 20 };
    const res = await post(fixture, "/v1/completions", { ...request, model: "remote" });
    expect(await res.text()).toBe(await direct("completions", request));
  });
});

describe("upstream failures before the answer", () => {
  it("an upstream 400 is the client's bad request, with the upstream's message", async () => {
    fixture.upstream.script("chat", {
      status: 400,
      errorMessage: "This model's maximum context length is 4096 tokens",
    });
    const failure = await client.chat.completions
      .create({ model: "remote", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BadRequestError);
    expect((failure as BadRequestError).message).toBe(
      "400 This model's maximum context length is 4096 tokens",
    );
  });

  it("an upstream 429 is a rate limit with its Retry-After", async () => {
    fixture.upstream.script("chat", { status: 429, retryAfter: 60 });
    const failure = await client.chat.completions
      .create({ model: "remote", messages: [{ role: "user", content: "hi" }], stream: true })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RateLimitError);
    expect((failure as RateLimitError).headers?.get("retry-after")).toBe("60");
  });

  it("an upstream 500 is a 502 upstream error", async () => {
    fixture.upstream.script("completions", { status: 500, errorMessage: "GPU fell off" });
    const failure = await client.completions
      .create({ model: "remote", prompt: "x" })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InternalServerError);
    expect((failure as APIError).status).toBe(502);
    expect((failure as APIError).message).toContain("GPU fell off");
    expect((failure as APIError).code).toBe("upstream_error");
  });
});
