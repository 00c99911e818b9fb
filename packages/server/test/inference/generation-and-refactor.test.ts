import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream/index.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let upstream: ScriptedUpstream;
let server: TestServer;
let headers: Record<string, string>;

beforeAll(async () => {
  upstream = await startScriptedUpstream({ models: ["coder"] });
  server = await startTestServer({
    auth: { required: true },
    models: [{ id: "coder", provider: "openai-compatible", base_url: `${upstream.url}/v1`, max_retries: 0 }],
  });
  const { key } = await createApiKey(server.services.store.apiKeys, { name: "ide", scopes: ["inference"] });
  headers = { authorization: `Bearer ${key}` };
});
afterAll(async () => {
  await server.stop();
  await upstream.close();
});
beforeEach(() => upstream.reset());

const fence = "```";
const post = (path: string, body: unknown) => request(server.url, path, { method: "POST", headers, body });

interface RefactorBody {
  refactoring: {
    type: string;
    refactored_code: string;
    safety_score: number;
    confidence: number | null;
    explanation: string;
    safety: { checks: Array<{ name: string; passed: boolean; detail: string }> };
  };
  alternatives: Array<{
    code: string;
    safety_score: number;
    safety: { checks: Array<{ name: string; passed: boolean }> };
  }>;
}

describe("POST /v1/ai/inference/generation", () => {
  it("returns the whole answer, the extracted code and a confidence from logprobs", async () => {
    upstream.script("chat", {
      reply: `Here you go:\n\n${fence}python\nimport re\n\ndef valid(email):\n    return re.match(r".+@.+", email) is not None\n${fence}\n\nIt uses a regex.`,
    });
    const res = await post("/v1/ai/inference/generation", {
      model_id: "coder",
      prompt: "Create a Python function to validate email addresses",
      context: { language: "python", existing_code: "# utils" },
      parameters: { max_tokens: 200, temperature: 0 },
    });
    expect(res.status, res.text).toBe(200);
    const generation = (res.body as { generation: Record<string, unknown> }).generation;
    expect(generation.code).toBe(
      'import re\n\ndef valid(email):\n    return re.match(r".+@.+", email) is not None',
    );
    expect(generation.text).toContain("It uses a regex.");
    expect(generation.language).toBe("python");
    expect(generation.confidence).toBeGreaterThan(0);
    expect(generation.confidence).toBeLessThan(1);
    expect(generation.metadata).toMatchObject({ model_used: "coder" });
    const sent = upstream.requestsTo("chat")[0]?.body as {
      messages: Array<{ content: string }>;
      logprobs: boolean;
      max_tokens: number;
    };
    expect(sent.logprobs).toBe(true);
    expect(sent.max_tokens).toBe(200);
    expect(sent.messages[1]?.content).toContain("# utils");
  });

  it("rejects bad bodies and unknown models with envelopes", async () => {
    expectErrorEnvelope(
      await post("/v1/ai/inference/generation", { model_id: "coder" }),
      400,
      "INVALID_REQUEST",
    );
    const error = expectErrorEnvelope(
      await post("/v1/ai/inference/generation", { model_id: "codr", prompt: "x" }),
      404,
      "MODEL_NOT_FOUND",
    );
    expect(error.details.suggestion).toBe("Use 'coder' instead");
  });
});

describe("POST /v1/ai/inference/refactor", () => {
  const python = "def total(values):\n    s = 0\n    for v in values:\n        s += v\n    return s\n";

  it("rename: the right identifiers changed, nothing else; all checks pass", async () => {
    upstream.script("chat", {
      reply: `${fence}python\ndef total(values):\n    acc = 0\n    for v in values:\n        acc += v\n    return acc\n${fence}\nRenamed s to acc.`,
    });
    const start = python.indexOf("s = 0");
    const res = await post("/v1/ai/inference/refactor", {
      model_id: "coder",
      code: python,
      operation: "rename",
      context: { language: "python", selection_start: start, selection_end: start + 1 },
    });
    expect(res.status, res.text).toBe(200);
    const { refactoring, alternatives } = res.body as RefactorBody;
    expect(refactoring.type).toBe("rename");
    expect(refactoring.refactored_code).toContain("acc += v");
    expect(refactoring.safety_score).toBe(1);
    expect(refactoring.safety.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(["parses", "public_signatures_unchanged", "rename_complete", "rename_only"]),
    );
    expect(refactoring.explanation).toBe("Renamed s to acc.");
    expect(alternatives).toEqual([]);
  });

  it("rename that misses an occurrence or changes something else scores below 1", async () => {
    upstream.script("chat", {
      reply: `${fence}python\ndef total(values):\n    acc = 0\n    for v in values:\n        s += v * 2\n    return acc\n${fence}`,
    });
    const start = python.indexOf("s = 0");
    const res = await post("/v1/ai/inference/refactor", {
      model_id: "coder",
      code: python,
      operation: "rename",
      context: { language: "python", selection_start: start, selection_end: start + 1, new_name: "acc" },
    });
    const { refactoring } = res.body as RefactorBody;
    expect(refactoring.safety_score).toBeLessThan(1);
    const failed = refactoring.safety.checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(["rename_complete"]));
  });

  it.each([
    ["python", "def f(x):\n    return x + 1\n", "def f(x):\nreturn x + 1\n"],
    ["javascript", "export const o = {a: 1};\n", "export const o = {a:1,,};\n"],
    ["rust", "pub fn f() -> i32 { 1 }\n", "pub fn f() -> i32 { 1 \n"],
    [
      "typescript",
      "export function f(a: number): number { return a; }\n",
      "export function f(a: number): number { return a;\n",
    ],
    ["go", "package m\n\nfunc F() int { return 1 }\n", "package m\n\nfunc F() int { return 1\n"],
    ["java", "class A { int f() { return 1; } }\n", "class A { int f() { return 1; }\n"],
  ])("a subtly broken %s result is never the main refactoring", async (language, code, broken) => {
    upstream.script(
      "chat",
      { reply: `${fence}${language}\n${broken}${fence}` },
      { reply: `${fence}${language}\n${code}${fence}` },
    );
    const res = await post("/v1/ai/inference/refactor", {
      model_id: "coder",
      code,
      operation: "optimize_performance",
      context: { language },
      parameters: { n: 2 },
    });
    expect(res.status, res.text).toBe(200);
    const { refactoring, alternatives } = res.body as RefactorBody;
    expect(refactoring.refactored_code).toBe(code.trimEnd());
    expect(refactoring.safety.checks.find((c) => c.name === "parses")?.passed).toBe(true);
    expect(alternatives).toHaveLength(1);
    expect(alternatives[0]?.safety.checks.find((c) => c.name === "parses")?.passed).toBe(false);
  });

  it("when nothing parses the answer is a 502, not a broken refactoring", async () => {
    upstream.script("chat", { reply: `${fence}python\ndef f(:\n${fence}` });
    const res = await post("/v1/ai/inference/refactor", {
      model_id: "coder",
      code: "def f():\n    pass\n",
      operation: "extract_variable",
      context: { language: "python" },
    });
    expectErrorEnvelope(res, 502, "UPSTREAM_ERROR");
  });

  it("validates operation, language and selection", async () => {
    const base = { model_id: "coder", code: "x = 1\n", context: { language: "python" } };
    expectErrorEnvelope(
      await post("/v1/ai/inference/refactor", { ...base, operation: "inline" }),
      400,
      "INVALID_REQUEST",
    );
    expectErrorEnvelope(
      await post("/v1/ai/inference/refactor", {
        ...base,
        operation: "rename",
        context: { language: "cobol" },
      }),
      400,
      "INVALID_REQUEST",
    );
    expectErrorEnvelope(
      await post("/v1/ai/inference/refactor", {
        ...base,
        operation: "extract_variable",
        context: { language: "python", selection_start: 3, selection_end: 99 },
      }),
      400,
      "INVALID_REQUEST",
    );
    expectErrorEnvelope(
      await post("/v1/ai/inference/refactor", {
        ...base,
        operation: "rename",
        context: { language: "python" },
      }),
      400,
      "INVALID_REQUEST",
    );
    expect(upstream.requestsTo("chat")).toHaveLength(0);
  });
});
