/**
 * The OpenAI routes on models without passthrough: the request is translated to the neutral
 * request, run through the ModelRunner and translated back — checked with the official client
 * on a test provider and on a real llama.cpp model the tests generate.
 */
import type OpenAI from "openai";
import { APIError, BadRequestError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { removeGeneratedModels, tinyLlamaModelPath } from "../helpers/gguf/tiny-llama-model.js";
import { scriptedLogprob, splitIntoTokens } from "../helpers/scripted-upstream/index.js";
import { type OpenAIFixture, post, startOpenAIFixture, drainChatStream } from "./fixture.js";
import { LOCAL_REPLY } from "./local-provider.js";

let fixture: OpenAIFixture;
let client: OpenAI;

beforeAll(async () => {
  const source = await tinyLlamaModelPath();
  fixture = await startOpenAIFixture({
    models: [{ id: "tiny", provider: "llama-cpp", source, threads: 1, gpu_layers: 0, context_length: 512 }],
  });
  client = fixture.client();
});
afterAll(async () => {
  await fixture.stop();
  await removeGeneratedModels();
});
beforeEach(() => fixture.local.reset());

const TOKENS = splitIntoTokens(LOCAL_REPLY);

describe("chat completions, translated", () => {
  it("answers in OpenAI's shape and translates the conversation to the neutral request", async () => {
    const completion = await client.chat.completions.create({
      model: "local",
      messages: [
        { role: "developer", content: "You write Python." },
        {
          role: "user",
          content: [
            { type: "text", text: "add two" },
            { type: "text", text: "numbers" },
          ],
        },
      ],
      max_completion_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      stop: "###",
      seed: 7,
      user: "someone",
    });
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("local");
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: LOCAL_REPLY },
      logprobs: null,
      finish_reason: "stop",
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 7,
      completion_tokens: TOKENS.length,
      total_tokens: 7 + TOKENS.length,
    });

    const [request] = fixture.local.requests;
    expect(request?.input).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: "You write Python." },
        { role: "user", content: "add two\nnumbers" },
      ],
    });
    expect(request?.sampling).toMatchObject({
      maxTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      stop: ["###"],
      seed: 7,
    });
    expect(request?.logprobs).toBe(false);
  });

  it("reports length when max_tokens cut the answer", async () => {
    const completion = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "add" }],
      max_tokens: 2,
    });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.choices[0]?.message.content).toBe(TOKENS.slice(0, 2).join(""));
  });

  it("gives the sampled tokens' logprobs in OpenAI's format", async () => {
    const completion = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "add" }],
      logprobs: true,
      top_logprobs: 2,
    });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content.map((t) => t.token)).toEqual(TOKENS);
    expect(content[1]).toEqual({
      token: TOKENS[1],
      logprob: scriptedLogprob(1),
      bytes: [...Buffer.from(TOKENS[1] ?? "")],
      top_logprobs: [
        { token: TOKENS[1], logprob: scriptedLogprob(1), bytes: [...Buffer.from(TOKENS[1] ?? "")] },
      ],
    });
    expect(fixture.local.requests[0]?.logprobs).toBe(true);
    expect(fixture.local.requests[0]?.topLogprobs).toBe(2);
  });

  it("streams chunks that concatenate to the answer, then the usage chunk and [DONE]", async () => {
    fixture.local.behaviour.chunkDelayMs = 2;
    const stream = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "add" }],
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(LOCAL_REPLY);
    const streamedTokens = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []).map((t) => t.token);
    expect(streamedTokens).toEqual(TOKENS);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "local")).toBe(true);

    const finish = chunks.at(-2);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toEqual({
      prompt_tokens: 7,
      completion_tokens: TOKENS.length,
      total_tokens: 7 + TOKENS.length,
    });
    // With include_usage every other chunk says `usage: null`, as OpenAI does.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("sends SSE frames and ends with data: [DONE]", async () => {
    const res = await post(fixture, "/v1/chat/completions", {
      model: "local",
      messages: [{ role: "user", content: "add" }],
      stream: true,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const frames = text.split("\n\n").filter((f) => f !== "");
    expect(frames.every((f) => f.startsWith("data: "))).toBe(true);
    expect(frames.at(-1)).toBe("data: [DONE]");
    // Without include_usage no chunk carries a usage field.
    expect(text).not.toContain('"usage"');
  });

  it("ends a stream that fails midway with an error event the client raises", async () => {
    fixture.local.behaviour.failAfterChunks = 2;
    const stream = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "add" }],
      stream: true,
    });
    const { received, failure } = await drainChatStream(stream);
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).message).toContain("the local runtime crashed mid-answer");
    expect((failure as APIError).code).toBe("upstream_error");
    expect(received.join("")).toBe(TOKENS.slice(0, 2).join(""));
  });

  it("a client that disconnects cancels the generation within a second", async () => {
    fixture.local.behaviour = { reply: "word ".repeat(200), chunkDelayMs: 50 };
    const stream = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "talk" }],
      stream: true,
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) break;
    }
    const abortedAt = Date.now();
    await expect.poll(() => fixture.local.endings.length, { timeout: 1_000, interval: 10 }).toBe(1);
    expect(fixture.local.endings[0]?.reason).toBe("cancelled");
    expect((fixture.local.endings[0]?.at ?? Infinity) - abortedAt).toBeLessThan(1_000);
    // The lease went back with the stream.
    await expect.poll(() => fixture.server.services.registry.get("local").inFlight).toBe(0);
  });
});

describe("completions, translated", () => {
  it("turns prompt + suffix into a fill-in-the-middle request", async () => {
    const completion = await client.completions.create({
      model: "local",
      prompt: "def add(a, b):\n",
      suffix: "\n\nprint(add(1, 2))",
      max_tokens: 64,
      temperature: 0,
      stop: ["\n\n", "def "],
    });
    expect(completion.id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      text: LOCAL_REPLY,
      finish_reason: "stop",
      logprobs: null,
    });
    expect(fixture.local.requests[0]?.input).toEqual({
      kind: "fim",
      prefix: "def add(a, b):\n",
      suffix: "\n\nprint(add(1, 2))",
    });
    expect(fixture.local.requests[0]?.sampling).toMatchObject({
      maxTokens: 64,
      temperature: 0,
      stop: ["\n\n", "def "],
    });
  });

  it("completes a raw prompt (array of one string) with OpenAI's default of 16 tokens", async () => {
    await client.completions.create({ model: "local", prompt: ["import os\n"] });
    expect(fixture.local.requests[0]?.input).toEqual({ kind: "completion", prompt: "import os\n" });
    expect(fixture.local.requests[0]?.sampling?.maxTokens).toBe(16);
  });

  it("gives legacy logprobs: tokens, token_logprobs, top_logprobs, text_offset", async () => {
    const completion = await client.completions.create({ model: "local", prompt: "x", logprobs: 1 });
    const logprobs = completion.choices[0]?.logprobs;
    expect(logprobs?.tokens).toEqual(TOKENS);
    expect(logprobs?.token_logprobs).toEqual(TOKENS.map((_, i) => scriptedLogprob(i)));
    expect(logprobs?.top_logprobs?.[0]).toEqual({ [TOKENS[0] ?? ""]: scriptedLogprob(0) });
    expect(logprobs?.text_offset?.slice(0, 3)).toEqual([
      0,
      TOKENS[0]?.length,
      (TOKENS[0] + (TOKENS[1] ?? "")).length,
    ]);
  });

  it("streams completion chunks with usage", async () => {
    const stream = await client.completions.create({
      model: "local",
      prompt: "x",
      suffix: "y",
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(LOCAL_REPLY);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(TOKENS.length);
  });

  it("refuses suffix on a model without fill-in-the-middle", async () => {
    const failure = await client.completions
      .create({ model: "plain", prompt: "a", suffix: "b" })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BadRequestError);
    expect((failure as BadRequestError).param).toBe("suffix");
    expect(fixture.plain.requests).toHaveLength(0);
  });
});

describe("a real llama.cpp model", () => {
  it("chats, streams and completes with logprobs", async () => {
    const chat = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(typeof chat.choices[0]?.message.content).toBe("string");
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chat.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(chat.choices[0]?.finish_reason);

    const stream = await client.completions.create({
      model: "tiny",
      prompt: "def main(",
      suffix: "\n",
      max_tokens: 6,
      logprobs: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const tokens = chunks.flatMap((c) => c.choices[0]?.logprobs?.tokens ?? []);
    expect(tokens.length).toBeGreaterThan(0);
    expect(chunks.flatMap((c) => c.choices[0]?.logprobs?.token_logprobs ?? []).every((l) => l <= 0)).toBe(
      true,
    );
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(tokens.length);
  });

  it("lists top_logprobs alternatives, most likely first, in both APIs' shapes", async () => {
    const chat = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 24,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = chat.choices[0]?.logprobs?.content ?? [];
    expect(content.length).toBeGreaterThan(0);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(3);
      const logprobs = entry.top_logprobs.map((t) => t.logprob);
      expect(logprobs).toEqual([...logprobs].sort((a, b) => b - a));
      // Greedy: the most likely token is the one sampled.
      expect(entry.top_logprobs[0]).toEqual({
        token: entry.token,
        logprob: entry.logprob,
        bytes: entry.bytes,
      });
      for (const t of [entry, ...entry.top_logprobs]) {
        // A byte token (part of a character, read as U+FFFD) lists its own byte, not U+FFFD's.
        if (t.token === "\uFFFD") expect(t.bytes).toEqual([expect.any(Number)]);
        else expect(t.bytes).toEqual([...Buffer.from(t.token, "utf8")]);
      }
    }
    // The generated model's vocabulary has byte tokens, and greedy decoding emits some here.
    expect(content.some((t) => t.token === "\uFFFD")).toBe(true);
    const answerBytes = Buffer.from(content.flatMap((t) => t.bytes ?? []));
    expect(new TextDecoder().decode(answerBytes)).toBe(chat.choices[0]?.message.content);

    const completion = await client.completions.create({
      model: "tiny",
      prompt: "def main(",
      max_tokens: 4,
      temperature: 0,
      logprobs: 2,
    });
    const legacy = completion.choices[0]?.logprobs;
    expect(legacy?.top_logprobs?.length).toBe(legacy?.tokens?.length);
    for (const [i, alternatives] of (legacy?.top_logprobs ?? []).entries()) {
      expect(Object.keys(alternatives).length).toBeGreaterThanOrEqual(1); // two tokens may read alike
      expect(Object.keys(alternatives).length).toBeLessThanOrEqual(2);
      expect(alternatives[legacy?.tokens?.[i] ?? ""]).toBe(legacy?.token_logprobs?.[i]);
    }
  });
});
