import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { upstreamError } from "../../src/engine/upstream-errors.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";
import { ScriptedCodeModel } from "./scripted-code-model.js";

/**
 * The completion pipeline against the real server, with model test doubles whose capabilities
 * (FIM or not, logprobs or not) and answers are scripted, so prompt selection, confidence,
 * samples, streaming, errors and cancellation are observed at the model itself.
 */
const fim = new ScriptedCodeModel({ fim: true, logprobs: true });
const chat = new ScriptedCodeModel({ fim: false, logprobs: true });
const blind = new ScriptedCodeModel({ fim: true, logprobs: false });
const doubles: Record<string, ScriptedCodeModel> = { fim, chat, blind };

let server: TestServer;
let headers: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer(
    {
      auth: { required: true },
      models: Object.keys(doubles).map((id) => ({
        id,
        provider: "llama-cpp" as const,
        source: `/unused/${id}`,
      })),
    },
    {
      createProvider: (entry) => {
        const model = doubles[entry.id];
        if (model === undefined) throw new Error(`no test double for ${entry.id}`);
        return model;
      },
    },
  );
  const { key } = await createApiKey(server.services.store.apiKeys, { name: "ide", scopes: ["inference"] });
  headers = { authorization: `Bearer ${key}` };
});
afterAll(() => server.stop());
beforeEach(() => {
  for (const model of Object.values(doubles)) model.reset();
});

const code = "def fib(n):\n    if n <= 1:\n        return n\n    \n\nprint(fib(10))\n";
const cursor = code.indexOf("    \n\n") + 4;

function body(model: string, extra: { parameters?: object; options?: object; context?: object } = {}) {
  return {
    model_id: model,
    context: {
      language: "python",
      code,
      cursor_position: cursor,
      file_path: "app/fib.py",
      project_context: { framework: "django", dependencies: ["numpy"] },
      ...extra.context,
    },
    parameters: { max_tokens: 40, ...extra.parameters },
    options: { cache: false, ...extra.options },
  };
}

interface CompletionJson {
  completion: {
    text: string;
    confidence: number | null;
    metadata: { model_used: string; tokens_used: number; processing_time_ms: number; cache_hit: boolean };
  };
  suggestions: Array<{ text: string; confidence: number | null; reasoning: string }>;
}

const post = (payload: unknown) =>
  request(server.url, "/v1/ai/inference/completion", { method: "POST", headers, body: payload });

async function complete(payload: unknown): Promise<CompletionJson> {
  const res = await post(payload);
  expect(res.status, res.text).toBe(200);
  return res.body as CompletionJson;
}

interface SseEvent {
  event: string;
  data: unknown;
}

async function streamEvents(payload: unknown): Promise<{ events: SseEvent[]; requestId: string | null }> {
  const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const text = await res.text();
  const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
    event: m[1] ?? "",
    data: JSON.parse(m[2] ?? "null") as unknown,
  }));
  return { events, requestId: res.headers.get("x-request-id") };
}

const deltasOf = (events: SseEvent[]) =>
  events.filter((e) => e.event === "delta").map((e) => (e.data as { text: string }).text);

describe("prompt selection", () => {
  it("a FIM model gets prefix and suffix, with the context as a header in the language's comments", async () => {
    fim.reset({ reply: "return fib(n - 1) + fib(n - 2)" });
    const json = await complete(body("fim"));
    expect(json.completion.text).toBe("return fib(n - 1) + fib(n - 2)");
    expect(fim.calls).toHaveLength(1);
    expect(fim.calls[0]?.request.input).toEqual({
      kind: "fim",
      prefix: `# file: app/fib.py\n# framework: django; dependencies: numpy\n${code.slice(0, cursor)}`,
      suffix: code.slice(cursor),
    });
    expect(fim.calls[0]?.request.logprobs).toBe(true);
    expect(chat.calls).toHaveLength(0);
  });

  it("a model without FIM gets the instruction prompt with language, path, project and both sides", async () => {
    chat.reset({ reply: "Here is the code:\n```python\nreturn fib(n - 1) + fib(n - 2)\n```\nIt recurses." });
    const json = await complete(body("chat"));
    expect(json.completion.text).toBe("return fib(n - 1) + fib(n - 2)");
    const input = chat.calls[0]?.request.input;
    expect(input?.kind).toBe("chat");
    if (input?.kind !== "chat") return;
    const [system, user] = input.messages;
    expect(system?.role).toBe("system");
    expect(system?.content).toContain("python");
    expect(system?.content).toMatch(/only the code to insert/);
    expect(user?.content).toContain("app/fib.py");
    expect(user?.content).toContain("django");
    expect(user?.content).toContain("numpy");
    expect(user?.content).toContain(`${code.slice(0, cursor)}<CURSOR>${code.slice(cursor)}`);
  });

  it("an instruction model's repetition of the surrounding lines is dropped", async () => {
    chat.reset({
      reply: "```python\n    if n <= 1:\n        return n\n    return fib(n - 1) + fib(n - 2)\n```",
    });
    const json = await complete(body("chat"));
    expect(json.completion.text).toBe("return fib(n - 1) + fib(n - 2)");
  });

  it("stop sequences: honoured for both kinds, never cutting an instruction model's fence", async () => {
    fim.reset({ reply: "return 1\n\nprint('extra')" });
    const fimJson = await complete(body("fim", { parameters: { stop_sequences: ["\n\n"] } }));
    expect(fimJson.completion.text).toBe("return 1");
    expect(fim.calls[0]?.request.sampling?.stop).toEqual(["\n\n"]);

    chat.reset({ reply: "```python\nreturn 1\n```" });
    const chatJson = await complete(body("chat", { parameters: { stop_sequences: ["```", "\n"] } }));
    expect(chatJson.completion.text).toBe("return 1");
    // Applied here, to the code: the runtime would have stopped at the opening fence.
    expect(chat.calls[0]?.request.sampling?.stop).toBeUndefined();
  });
});

describe("confidence", () => {
  it("is the geometric mean of the generated tokens' probabilities", async () => {
    fim.reset({ reply: "return a + b", logprobs: [-0.1, -0.2, -0.3, -0.4] });
    const json = await complete(body("fim"));
    expect(json.completion.confidence).toBeCloseTo(Math.exp(-0.25), 4);
    fim.reset({ reply: "return a + b", logprobs: [-2] });
    expect((await complete(body("fim"))).completion.confidence).toBeCloseTo(Math.exp(-2), 4);
  });

  it("is null when the runtime does not report token probabilities", async () => {
    blind.reset({ reply: (r) => `return ${r.sampling?.seed ?? 0}` });
    const json = await complete(body("blind", { parameters: { n: 2 } }));
    expect(json.completion.confidence).toBeNull();
    expect(json.suggestions).toHaveLength(1);
    expect(json.suggestions[0]?.confidence).toBeNull();
  });
});

describe("suggestions", () => {
  it("n > 1: extra samples run concurrently with their own seeds", async () => {
    fim.reset({ reply: (r) => `return variant_${r.sampling?.seed ?? 0}()`, chunkDelayMs: 20 });
    const json = await complete(body("fim", { parameters: { n: 3, temperature: 0.2 } }));
    expect(json.completion.text).toBe("return variant_0()");
    expect(json.suggestions.map((s) => s.text)).toEqual(["return variant_1()", "return variant_2()"]);
    for (const s of json.suggestions) {
      expect(s.confidence).toBeGreaterThan(0);
      expect(s.reasoning).toMatch(/alternative sample/);
    }
    expect(fim.calls.map((c) => c.request.sampling?.seed)).toEqual([undefined, 1, 2]);
    expect(fim.calls.map((c) => c.request.sampling?.temperature)).toEqual([0.2, 0.2, 0.2]);
    expect(fim.maxInFlight).toBe(3);
    // Tokens of every sample are counted.
    expect(json.completion.metadata.tokens_used).toBe(3 * (5 + 2));
  });

  it("n = 1 gives an empty list, and alternatives equal to the answer are left out", async () => {
    expect((await complete(body("fim"))).suggestions).toEqual([]);
    fim.reset({ reply: "return 0" });
    const json = await complete(body("fim", { parameters: { n: 3 } }));
    expect(json.suggestions).toEqual([]);
    expect(fim.calls).toHaveLength(3);
  });
});

describe("streaming", () => {
  it("delta events, then done with the full body (suggestions included)", async () => {
    fim.reset({ reply: (r) => `return fib(n - 1) + fib(n - 2)  # ${r.sampling?.seed ?? 0}` });
    const { events } = await streamEvents(body("fim", { parameters: { n: 2 }, options: { stream: true } }));
    const deltas = deltasOf(events);
    expect(deltas.length).toBeGreaterThan(3);
    const done = events.at(-1);
    expect(done?.event).toBe("done");
    const json = done?.data as CompletionJson;
    expect(json.completion.text).toBe(deltas.join(""));
    expect(json.completion.text).toBe("return fib(n - 1) + fib(n - 2)  # 0");
    expect(json.completion.confidence).toBeGreaterThan(0);
    expect(json.suggestions.map((s) => s.text)).toEqual(["return fib(n - 1) + fib(n - 2)  # 1"]);
  });

  it("an instruction model's fence and preamble are not streamed; the stream ends at the closing fence", async () => {
    chat.reset({
      reply: "Sure! Here it is:\n```python\nreturn fib(n - 1)\n```\nThis calls fib recursively.",
    });
    const { events } = await streamEvents(body("chat", { options: { stream: true } }));
    const deltas = deltasOf(events);
    expect(deltas.join("")).toBe("return fib(n - 1)");
    expect((events.at(-1)?.data as CompletionJson).completion.text).toBe("return fib(n - 1)");
    // Generation stopped once the code block was closed: the explanation was never generated.
    expect(chat.calls[0]?.ending?.reason).toBe("cancelled");
  });

  it("a stop sequence split across chunks never leaks into the deltas", async () => {
    fim.reset({ reply: "x = 1 END y = 2" });
    const { events } = await streamEvents(
      body("fim", { parameters: { stop_sequences: [" END y"] }, options: { stream: true } }),
    );
    expect(deltasOf(events).join("")).toBe("x = 1");
    expect((events.at(-1)?.data as CompletionJson).completion.text).toBe("x = 1");
  });

  it("a runtime failure mid-stream becomes an error event with the envelope", async () => {
    fim.reset({
      reply: "a b c d e f",
      failAfterChunks: 2,
      failWith: upstreamError("the model server went away", { status: 502 }),
    });
    const { events, requestId } = await streamEvents(body("fim", { options: { stream: true } }));
    expect(deltasOf(events)).toEqual(["a", " b"]);
    const last = events.at(-1);
    expect(last?.event).toBe("error");
    expect(last?.data).toMatchObject({
      error: { code: "UPSTREAM_ERROR", message: "the model server went away", request_id: requestId },
    });
  });

  it("an unexpected failure mid-stream is an INTERNAL_ERROR event that reveals nothing", async () => {
    fim.reset({ reply: "a b c", failAfterChunks: 1, failWith: new TypeError("secret internals") });
    const { events } = await streamEvents(body("fim", { options: { stream: true } }));
    const last = events.at(-1);
    expect(last?.event).toBe("error");
    expect(last?.data).toMatchObject({ error: { code: "INTERNAL_ERROR" } });
    expect(JSON.stringify(last?.data)).not.toContain("secret");
  });

  it("errors known before streaming starts are plain JSON errors", async () => {
    const res = await post(body("nope", { options: { stream: true } }));
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect((res.body as { error: { code: string } }).error.code).toBe("MODEL_NOT_FOUND");
  });
});

describe("cancellation", () => {
  async function expectCancelledWithinASecond(model: ScriptedCodeModel, abortedAt: number) {
    const deadline = abortedAt + 1_000;
    while (model.calls[0]?.ending === undefined && Date.now() < deadline) await sleep(10);
    const ending = model.calls[0]?.ending;
    expect(ending?.reason).toBe("cancelled");
    expect((ending?.at ?? Number.POSITIVE_INFINITY) - abortedAt).toBeLessThan(1_000);
  }

  it("a streaming client that disconnects cancels the generation", async () => {
    fim.reset({ reply: "x ".repeat(400), chunkDelayMs: 25 });
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body("fim", { parameters: { max_tokens: 400 }, options: { stream: true } })),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: delta");
    abort.abort();
    await expectCancelledWithinASecond(fim, Date.now());
  });

  it("a waiting non-streaming client that disconnects cancels the generation too", async () => {
    fim.reset({ reply: "x ".repeat(400), chunkDelayMs: 25 });
    const abort = new AbortController();
    const pending = fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body("fim", { parameters: { max_tokens: 400 } })),
      signal: abort.signal,
    }).catch(() => undefined);
    while (fim.calls.length === 0) await sleep(10);
    await sleep(100);
    abort.abort();
    await pending;
    await expectCancelledWithinASecond(fim, Date.now());
  });
});
