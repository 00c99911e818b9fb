import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let upstream: ScriptedUpstream;
let server: TestServer;
let headers: Record<string, string>;

beforeAll(async () => {
  upstream = await startScriptedUpstream({ models: ["fim-coder", "chat-coder"] });
  const base = { provider: "openai-compatible" as const, base_url: `${upstream.url}/v1`, max_retries: 0 };
  server = await startTestServer({
    auth: { required: true },
    models: [
      { id: "fim-coder", ...base, fim: true },
      { id: "chat-coder", ...base },
    ],
  });
  const { key } = await createApiKey(server.services.store.apiKeys, { name: "ide", scopes: ["inference"] });
  headers = { authorization: `Bearer ${key}` };
});
afterAll(async () => {
  await server.stop();
  await upstream.close();
});
beforeEach(() => upstream.reset());

const code = "fn calculate_fibonacci(n: u32) -> u32 {\n    if n <= 1 {\n        return n;\n    }\n    \n}\n";
const cursor = code.indexOf("    \n}") + 4;
const body = (overrides: Record<string, unknown> = {}) => ({
  model_id: "fim-coder",
  context: {
    language: "rust",
    code,
    cursor_position: cursor,
    file_path: "src/main.rs",
    project_context: { dependencies: ["serde", "tokio"], framework: "axum" },
  },
  parameters: { max_tokens: 50, temperature: 0, stop_sequences: ["\n\n"] },
  ...overrides,
});
const post = (payload: unknown) =>
  request(server.url, "/v1/ai/inference/completion", { method: "POST", headers, body: payload });

interface CompletionJson {
  completion: { text: string; confidence: number | null; metadata: Record<string, unknown> };
  suggestions: Array<{ text: string; confidence: number | null; reasoning: string }>;
}

describe("POST /v1/ai/inference/completion", () => {
  it("FIM model: prefix/suffix split at the cursor, context in a header comment, confidence from logprobs", async () => {
    upstream.script("completions", { reply: "calculate_fibonacci(n - 1) + calculate_fibonacci(n - 2)" });
    const res = await post(body());
    expect(res.status, res.text).toBe(200);
    const json = res.body as CompletionJson;
    expect(json.completion.text).toBe("calculate_fibonacci(n - 1) + calculate_fibonacci(n - 2)");
    expect(json.completion.confidence).toBeGreaterThan(0);
    expect(json.completion.confidence).toBeLessThan(1);
    expect(json.completion.metadata).toMatchObject({ model_used: "fim-coder" });
    expect(json.completion.metadata.tokens_used).toBeGreaterThan(0);
    expect(json.suggestions).toEqual([]);
    const sent = upstream.requestsTo("completions")[0]?.body as Record<string, unknown>;
    expect(sent.prompt).toBe(
      `// file: src/main.rs\n// framework: axum; dependencies: serde, tokio\n${code.slice(0, cursor)}`,
    );
    expect(sent.suffix).toBe(code.slice(cursor));
    expect(sent.stop).toEqual(["\n\n"]);
    expect(sent.max_tokens).toBe(50);
  });

  it("instruction model: a prompt with the context, fences stripped from the answer", async () => {
    upstream.script("chat", {
      reply: "```rust\ncalculate_fibonacci(n - 1) + calculate_fibonacci(n - 2)\n```",
    });
    const res = await post(body({ model_id: "chat-coder" }));
    const json = res.body as CompletionJson;
    expect(json.completion.text).toBe("calculate_fibonacci(n - 1) + calculate_fibonacci(n - 2)");
    const sent = upstream.requestsTo("chat")[0]?.body as { messages: Array<{ content: string }> };
    expect(sent.messages[1]?.content).toContain("<CURSOR>");
    expect(sent.messages[1]?.content).toContain("axum");
    expect(sent.messages[1]?.content).toContain("src/main.rs");
    // "\n\n" would have cut a fenced answer before its code: applied here, not upstream.
    expect((sent as Record<string, unknown>).stop).toBeUndefined();
  });

  it("n > 1 gives suggestions from extra samples", async () => {
    upstream.always("completions", { reply: (req) => `sample ${(req.body as { seed?: number }).seed ?? 0}` });
    const json = (await post(body({ parameters: { n: 3, max_tokens: 10 } }))).body as CompletionJson;
    expect(json.completion.text).toBe("sample 0");
    expect(json.suggestions.map((s) => s.text).sort()).toEqual(["sample 1", "sample 2"]);
    expect(upstream.requestsTo("completions")).toHaveLength(3);
  });

  it("bad input is a 400 before any model call", async () => {
    const outOfRange = await post(body({ context: { language: "rust", code: "abc", cursor_position: 4 } }));
    const error = expectErrorEnvelope(outOfRange, 400, "INVALID_REQUEST");
    expect(error.details.issues).toEqual([
      { path: "context.cursor_position", message: "must be between 0 and 3" },
    ]);
    const emoji = 'let s = "😀";';
    const inside = await post(body({ context: { language: "rust", code: emoji, cursor_position: 10 } }));
    expect(expectErrorEnvelope(inside, 400, "INVALID_REQUEST").details.issues).toEqual([
      expect.objectContaining({ path: "context.cursor_position" }),
    ]);
    for (const [parameters, path] of [
      [{ max_tokens: -1 }, "parameters.max_tokens"],
      [{ max_tokens: 1.5 }, "parameters.max_tokens"],
      [{ temperature: -0.1 }, "parameters.temperature"],
      [{ temperature: 9 }, "parameters.temperature"],
      [{ top_p: -1 }, "parameters.top_p"],
      [{ top_p: 0 }, "parameters.top_p"],
      [{ frequency_penalty: -3 }, "parameters.frequency_penalty"],
      [{ presence_penalty: 7 }, "parameters.presence_penalty"],
      [{ n: 0 }, "parameters.n"],
      [{ n: 50 }, "parameters.n"],
      [{ stop_sequences: Array(20).fill("x") }, "parameters.stop_sequences"],
    ] as const) {
      const res = await post(body({ parameters }));
      const issues = expectErrorEnvelope(res, 400, "INVALID_REQUEST").details.issues as Array<{
        path: string;
      }>;
      expect(issues.map((i) => i.path)).toContain(path);
    }
    const negativeCursor = await post(body({ context: { language: "rust", code, cursor_position: -1 } }));
    expect(
      (
        expectErrorEnvelope(negativeCursor, 400, "INVALID_REQUEST").details.issues as Array<{ path: string }>
      )[0]?.path,
    ).toBe("context.cursor_position");
    expectErrorEnvelope(await post(body({ options: { async: true, stream: true } })), 400, "INVALID_REQUEST");
    expect(upstream.requests).toHaveLength(0);
  });

  it("streams delta events, then done with the full body", async () => {
    upstream.script("completions", {
      reply: "return calculate_fibonacci(n - 1) + calculate_fibonacci(n - 2);",
      chunkDelayMs: 2,
    });
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body({ options: { stream: true, cache: false } })),
    });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await res.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2] ?? "null"),
    }));
    const deltas = events.filter((e) => e.event === "delta").map((e) => (e.data as { text: string }).text);
    expect(deltas.length).toBeGreaterThan(1);
    const done = events.at(-1);
    expect(done?.event).toBe("done");
    expect((done?.data as CompletionJson).completion.text).toBe(deltas.join(""));
  });

  it("an upstream failure mid-stream becomes an error event with the envelope", async () => {
    upstream.script("completions", {
      reply: "a b c d e f g h",
      chunkDelayMs: 2,
      fault: "reset-mid-stream",
      afterChunks: 2,
    });
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body({ options: { stream: true, cache: false } })),
    });
    const text = await res.text();
    const last = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].at(-1);
    expect(last?.[1]).toBe("error");
    expect(JSON.parse(last?.[2] ?? "{}")).toMatchObject({ error: { code: "UPSTREAM_ERROR" } });
  });

  it("a client that disconnects cancels the generation upstream within a second", async () => {
    upstream.script("completions", { reply: "x ".repeat(500), chunkDelayMs: 20 });
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body({ options: { stream: true, cache: false } })),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    const deadline = Date.now() + 1_000;
    while (!upstream.requestsTo("completions")[0]?.aborted && Date.now() < deadline) await sleep(20);
    expect(upstream.requestsTo("completions")[0]?.aborted).toBe(true);
  });
});
