import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { assertSafeBinding } from "../../src/server.js";
import { request, startTestServer, type TestServer, testConfig } from "../helpers/test-server.js";

describe("cfapi stand-in (open mode)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ optimization: { cfapi: { port: 0 } } });
  });
  afterAll(() => server.stop());

  const cfapi = (path: string, init: Parameters<typeof request>[2] = {}) =>
    request(server.cfapiUrl ?? "", path, {
      ...init,
      headers: { authorization: "Bearer cf-local-dev", ...init.headers },
    });

  it("answers what a local codeflash run asks: who the user is, and that an optimization was found", async () => {
    expect(server.cfapiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.cfapiUrl).not.toBe(server.url);
    const user = await cfapi("/cfapi/cli-get-user", { headers: { cli_version: "0.20.5" } });
    expect(user.status).toBe(200);
    expect(user.text).toBe("aiservice-local");
    const marked = await cfapi("/cfapi/mark-as-success", {
      method: "POST",
      body: { trace_id: "3f1c2b9e-7d4a-4e6b-9a51-0c8d2e7f4a13", is_optimization_found: true },
    });
    expect(marked.status).toBe(200);
    expect((await cfapi("/cfapi/send-completion-email", { method: "POST", body: {} })).status).toBe(200);
  });

  it("says clearly what it does not serve", async () => {
    const pr = await cfapi("/cfapi/create-pr", { method: "POST", body: {} });
    expect(pr.status).toBe(404);
    expect((pr.body as { error: string }).error).toMatch(/--no-pr/);
  });

  it("is not the main API: /ai routes are not served there", async () => {
    expect((await cfapi("/ai/optimize", { method: "POST", body: {} })).status).toBe(404);
  });
});

describe("cfapi stand-in with auth required", () => {
  let server: TestServer;
  let key: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: { required: true }, optimization: { cfapi: { port: 0 } } });
    key = (
      await createApiKey(server.services.store.apiKeys, { name: "cli", scopes: ["inference"], prefix: "cf-" })
    ).key;
  });
  afterAll(() => server.stop());

  it("accepts the issued cf- key and answers 403 (the client then exits) for another", async () => {
    const ok = await request(server.cfapiUrl ?? "", "/cfapi/cli-get-user", {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(ok.status).toBe(200);
    const refused = await request(server.cfapiUrl ?? "", "/cfapi/cli-get-user", {
      headers: { authorization: "Bearer cf-unknown" },
    });
    expect(refused.status).toBe(403);
  });

  it("stops with the server", async () => {
    const other = await startTestServer({ optimization: { cfapi: { port: 0 } } });
    const url = other.cfapiUrl ?? "";
    expect((await request(url, "/cfapi/cli-get-user")).status).toBe(200);
    await other.stop();
    await expect(fetch(`${url}/cfapi/cli-get-user`)).rejects.toThrow();
  });
});

it("refuses a non-loopback cfapi address in open mode", () => {
  expect(() =>
    assertSafeBinding(testConfig({ optimization: { cfapi: { host: "0.0.0.0", port: 3001 } } })),
  ).toThrow(/refusing to listen on 0\.0\.0\.0/);
});
