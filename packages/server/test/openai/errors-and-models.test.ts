/**
 * `/v1/models`, authentication, rate limits and errors on the OpenAI routes: every failure in
 * OpenAI's error shape, so the official client raises its own typed errors.
 */
import type OpenAI from "openai";
import { AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFixture, post, startOpenAIFixture } from "./fixture.js";

let fixture: OpenAIFixture;
let client: OpenAI;

beforeAll(async () => {
  fixture = await startOpenAIFixture();
  client = fixture.client();
});
afterAll(() => fixture.stop());

/** The rejection of `promise` (fails the test if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: unknown) => err,
  );
}

/** OpenAI's error body: exactly message, type, param and code. */
async function expectOpenAIError(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  return body.error;
}

describe("GET /v1/models", () => {
  it("lists every registered model in OpenAI's shape", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id).sort()).toEqual(["local", "plain", "remote"]);
    const remote = models.find((m) => m.id === "remote");
    expect(remote).toMatchObject({ object: "model", owned_by: "openai-compatible" });
    expect(Number.isInteger(remote?.created)).toBe(true);
  });

  it("retrieves one model, and 404s an unknown one", async () => {
    expect(await client.models.retrieve("local")).toMatchObject({
      id: "local",
      object: "model",
      owned_by: "llama-cpp",
    });
    const failure = await failureOf(client.models.retrieve("nope"));
    expect(failure).toBeInstanceOf(NotFoundError);
  });
});

describe("errors in OpenAI's shape", () => {
  it("an unknown model is a 404 model_not_found the client raises as NotFoundError", async () => {
    const failure = await failureOf(
      client.chat.completions.create({ model: "remot", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(failure).toBeInstanceOf(NotFoundError);
    const error = failure as NotFoundError;
    expect(error.status).toBe(404);
    expect(error.message).toBe("404 Requested model 'remot' is not available. Use 'remote' instead.");
    expect(error.code).toBe("model_not_found");
    expect(error.param).toBe("model");
    expect(error.type).toBe("invalid_request_error");
    expect(error.requestID).toMatch(/^req_/);

    const res = await post(fixture, "/v1/completions", { model: "nope", prompt: "x" });
    const body = await expectOpenAIError(res, 404);
    expect(body.code).toBe("model_not_found");
  });

  it("an invalid body is a 400 naming the field: BadRequestError", async () => {
    const failure = await failureOf(
      client.chat.completions.create({ model: "local", messages: [{ role: "user", content: "hi" }], n: 2 }),
    );
    expect(failure).toBeInstanceOf(BadRequestError);
    const error = failure as BadRequestError;
    expect(error.message).toContain("n must be 1");
    expect(error.param).toBe("n");
    expect(error.code).toBe("invalid_request");

    const missing = await post(fixture, "/v1/chat/completions", { model: "local" });
    expect((await expectOpenAIError(missing, 400)).param).toBe("messages");
    const tokens = await post(fixture, "/v1/completions", { model: "local", prompt: [1, 2, 3] });
    expect((await expectOpenAIError(tokens, 400)).message).toContain("prompt must be a string");
    const image = await post(fixture, "/v1/chat/completions", {
      model: "local",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }],
    });
    expect((await expectOpenAIError(image, 400)).param).toBe("messages[0].content[0]");
    const alternatives = await post(fixture, "/v1/chat/completions", {
      model: "local",
      messages: [{ role: "user", content: "hi" }],
      top_logprobs: 2,
    });
    const alternativesError = await expectOpenAIError(alternatives, 400);
    expect(alternativesError.param).toBe("top_logprobs");
    expect(alternativesError.message).toContain("logprobs: true");
  });

  it("malformed JSON is a 400 in OpenAI's shape", async () => {
    const res = await fetch(`${fixture.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${fixture.key}`, "content-type": "application/json" },
      body: '{"model": "local", ',
    });
    const error = await expectOpenAIError(res, 400);
    expect(error.type).toBe("invalid_request_error");
  });

  it("a missing or wrong API key is a 401: AuthenticationError", async () => {
    const anonymous = fixture.client({ apiKey: "unused", defaultHeaders: { Authorization: null } });
    const missing = await failureOf(anonymous.models.list());
    expect(missing).toBeInstanceOf(AuthenticationError);
    expect((missing as AuthenticationError).message).toContain("missing credentials");

    const wrong = fixture.client({ apiKey: "sk-not-a-key" });
    const failure = await failureOf(
      wrong.chat.completions.create({ model: "local", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect((failure as AuthenticationError).code).toBe("invalid_api_key");
  });

  it("a known path with the wrong method is a 405 in OpenAI's shape", async () => {
    const res = await fetch(`${fixture.server.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${fixture.key}` },
    });
    const error = await expectOpenAIError(res, 405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(error.code).toBe("method_not_allowed");
  });

  it("the routes are in /openapi.json with OpenAI's schemas", async () => {
    const doc = (await (await fetch(`${fixture.server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/models/{model}"]),
    );
  });
});

describe("rate limits on the OpenAI routes", () => {
  let limited: OpenAIFixture;

  beforeAll(async () => {
    limited = await startOpenAIFixture({ config: { rate_limits: { inference: 2 } } });
  });
  afterAll(() => limited.stop());

  it("count in the inference category: the third request is a 429, RateLimitError", async () => {
    const client = limited.client();
    const ask = () =>
      client.chat.completions.create({ model: "local", messages: [{ role: "user", content: "hi" }] });
    await ask();
    await ask();
    const failure = await failureOf(ask());
    expect(failure).toBeInstanceOf(RateLimitError);
    const error = failure as RateLimitError;
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toContain("rate limit exceeded for inference requests");
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
    // Listing models is not inference.
    await expect(client.models.list()).resolves.toBeDefined();
  });
});
