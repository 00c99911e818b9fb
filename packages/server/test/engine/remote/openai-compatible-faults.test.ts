import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  OpenAICompatibleProvider,
  type OpenAICompatibleProviderOptions,
} from "../../../src/engine/providers/openai-compatible/index.js";
import type { LoadedModel } from "../../../src/engine/providers/provider.js";
import {
  IN_STREAM_ERROR_MESSAGE,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../../helpers/scripted-upstream/index.js";
import { chat, collect, expectApiError, FAST, timed, within } from "./remote-test-kit.js";

describe("openai-compatible provider under upstream faults", () => {
  let upstream: ScriptedUpstream;
  let model: LoadedModel;

  const load = (options: Partial<OpenAICompatibleProviderOptions> = {}) =>
    new OpenAICompatibleProvider({ baseUrl: upstream.url, model: "coder", ...FAST, ...options }).load();

  beforeAll(async () => {
    upstream = await startScriptedUpstream({ models: ["coder"] });
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

  it("retries a 500 and succeeds, for generate and for stream", async () => {
    upstream.script(
      "chat",
      { status: 500 },
      { reply: "ok after 500" },
      { status: 503 },
      { reply: "streamed after 503" },
    );
    expect((await model.generate(chat("x"))).text).toBe("ok after 500");
    expect((await collect(model.stream(chat("x")))).text).toBe("streamed after 503");
    expect(upstream.requestsTo("chat")).toHaveLength(4);
  });

  it("gives up after maxRetries with UPSTREAM_ERROR carrying status and message", async () => {
    upstream.always("chat", { status: 502, errorMessage: "bad gateway upstream" });
    const error = await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({
      status: 502,
      upstream_message: "bad gateway upstream",
      attempts: 3,
    });
    expect(error.message).toContain("HTTP 502");
    expect(upstream.requestsTo("chat")).toHaveLength(3);
  });

  it("does not retry a 400 (it would fail the same way again)", async () => {
    upstream.always("chat", { status: 400, errorMessage: "context too long" });
    const error = await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({ status: 400, attempts: 1 });
    expect(upstream.requestsTo("chat")).toHaveLength(1);
  });

  it("honours Retry-After on 429 before retrying", async () => {
    upstream.script("chat", { status: 429, retryAfter: 1 }, { reply: "after the wait" });
    const { ms, value } = await timed(() => model.generate(chat("x")));
    expect(value?.text).toBe("after the wait");
    expect(ms).toBeGreaterThanOrEqual(950);
    const [first, second] = upstream.requestsTo("chat");
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it("429 forever → RATE_LIMIT_EXCEEDED with retry_after once the retries are spent", async () => {
    upstream.always("chat", { status: 429, retryAfter: "0.05" });
    const error = await expectApiError(model.generate(chat("x")), "RATE_LIMIT_EXCEEDED");
    expect(error.details).toMatchObject({ upstream: true, retry_after_seconds: 1, attempts: 3 });
    expect(error.headers["Retry-After"]).toBe("1");
    expect(upstream.requestsTo("chat")).toHaveLength(3);
  });

  it("a Retry-After longer than we wait fails at once, passing the upstream's retry_after on", async () => {
    upstream.always("chat", { status: 429, retryAfter: 120 });
    const { ms, error } = await timed(() => model.generate(chat("x")));
    await expectApiError(Promise.reject(error), "RATE_LIMIT_EXCEEDED");
    expect((error as { details: unknown }).details).toMatchObject({ retry_after_seconds: 120, attempts: 1 });
    expect(ms).toBeLessThan(500);
  });

  it("retries a connection reset, then fails with UPSTREAM_ERROR", async () => {
    upstream.script("chat", { fault: "reset-before-headers" }, { reply: "after reset" });
    expect((await model.generate(chat("x"))).text).toBe("after reset");
    upstream.always("chat", { fault: "reset-before-headers" });
    const error = await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(error.message).toMatch(/connection to the openai-compatible upstream failed/);
    expect(upstream.requestsTo("chat")).toHaveLength(2 + 3);
  });

  it("retries a stream reset before any text reached the caller", async () => {
    upstream.script("chat", { fault: "reset-mid-stream", afterChunks: 0 }, { reply: "second try" });
    const { text, last } = await collect(model.stream(chat("x")));
    expect(text).toBe("second try");
    expect(last?.finishReason).toBe("stop");
  });

  it("does not retry a stream that already delivered text: UPSTREAM_ERROR", async () => {
    upstream.script("chat", { fault: "reset-mid-stream", afterChunks: 2, reply: "one two three four" });
    const seen: string[] = [];
    const run = async () => {
      for await (const chunk of model.stream(chat("x"))) seen.push(chunk.text);
    };
    await expectApiError(run(), "UPSTREAM_ERROR");
    expect(seen).toEqual(["one", " two"]);
    expect(upstream.requestsTo("chat")).toHaveLength(1);
  });

  it("a truncated stream (clean close, no finish, no [DONE]) is UPSTREAM_ERROR, not a short answer", async () => {
    upstream.always("chat", { fault: "truncate", afterChunks: 2, reply: "one two three four" });
    const error = await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
    expect(error.message).toContain("truncated");
    upstream.always("completions", { fault: "truncate", afterChunks: 0 });
    await expectApiError(
      collect(model.stream({ input: { kind: "completion", prompt: "p" } })),
      "UPSTREAM_ERROR",
    );
    // Nothing reached the caller, so the completion stream was retried before failing.
    expect(upstream.requestsTo("completions")).toHaveLength(3);
  });

  it("an error event inside a 200 stream: retried before any text, UPSTREAM_ERROR after", async () => {
    upstream.script("chat", { fault: "error-event", afterChunks: 0 }, { reply: "recovered" });
    expect((await collect(model.stream(chat("x")))).text).toBe("recovered");
    upstream.script("chat", { fault: "error-event", afterChunks: 1 });
    const error = await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
    expect(error.details).toMatchObject({ upstream_message: IN_STREAM_ERROR_MESSAGE, attempts: 1 });
  });

  it("garbage JSON is UPSTREAM_ERROR, for generate and for stream", async () => {
    upstream.always("chat", { fault: "garbage" });
    const error = await expectApiError(model.generate(chat("x")), "UPSTREAM_ERROR");
    expect(error.message).toContain("malformed");
    await expectApiError(collect(model.stream(chat("x"))), "UPSTREAM_ERROR");
  });

  it("a stream stalled past the read timeout is UPSTREAM_TIMEOUT, promptly", async () => {
    upstream.always("chat", { fault: "stall", afterChunks: 1 });
    const { ms, error } = await timed(() => collect(model.stream(chat("x"))));
    const apiError = await expectApiError(Promise.reject(error), "UPSTREAM_TIMEOUT");
    expect(apiError.details).toMatchObject({ phase: "read", timeout_ms: FAST.readTimeoutMs, attempts: 1 });
    expect(ms).toBeGreaterThanOrEqual(FAST.readTimeoutMs - 20);
    expect(ms).toBeLessThan(FAST.readTimeoutMs + 400);
    // The stalled exchange was closed by us, not left hanging.
    expect(await within(upstream.requestsTo("chat")[0]!.ended, 1_000)).toBe("client-closed");
  });

  it("a non-streaming answer stalled after its headers is UPSTREAM_TIMEOUT, promptly", async () => {
    upstream.always("chat", { fault: "stall" });
    const { ms, error } = await timed(() => model.generate(chat("x")));
    await expectApiError(Promise.reject(error), "UPSTREAM_TIMEOUT");
    expect(ms).toBeLessThan(FAST.readTimeoutMs + 400);
  });

  it("an upstream that does not start answering a stream within the connect timeout is UPSTREAM_TIMEOUT", async () => {
    const impatient = await load({ connectTimeoutMs: 200 });
    upstream.always("chat", { latencyMs: 2_000 });
    const { ms, error } = await timed(() => collect(impatient.stream(chat("x"))));
    const apiError = await expectApiError(Promise.reject(error), "UPSTREAM_TIMEOUT");
    expect(apiError.details).toMatchObject({ phase: "response", timeout_ms: 200 });
    expect(ms).toBeLessThan(600);
    await impatient.unload();
  });

  it("an unreachable server fails load with UPSTREAM_ERROR", async () => {
    const closed = await startScriptedUpstream();
    const url = closed.url;
    await closed.close();
    const provider = new OpenAICompatibleProvider({ baseUrl: url, model: "coder", ...FAST, maxRetries: 1 });
    const error = await expectApiError(provider.load(), "UPSTREAM_ERROR");
    expect(error.message).toMatch(/ECONNREFUSED|connection/i);
  });
});
