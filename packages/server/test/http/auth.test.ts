import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/auth/api-key-service.js";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

const SECRET = "a-test-secret-that-is-at-least-32-characters-long";
const secretBytes = new TextEncoder().encode(SECRET);

function jwt(claims: Record<string, unknown>, options: { expiresIn?: string; secret?: Uint8Array } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("alice")
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(options.secret ?? secretBytes);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("auth required", () => {
  let server: TestServer;
  let adminKey: string;
  let inferenceKey: string;
  let revokedKey: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: { required: true, jwt: { secret: SECRET } } });
    const keys = server.services.store.apiKeys;
    adminKey = (await createApiKey(keys, { name: "admin", scopes: ["admin"] })).key;
    inferenceKey = (await createApiKey(keys, { name: "ide", scopes: ["inference"], prefix: "cf-" })).key;
    const revoked = await createApiKey(keys, { name: "old", scopes: ["admin"] });
    await revokeApiKey(keys, revoked.record.id);
    revokedKey = revoked.key;
  });
  afterAll(() => server.stop());

  const get = (headers: Record<string, string>, path = "/v1/ai/me") => request(server.url, path, { headers });

  it("no credentials → 401", async () => {
    expectErrorEnvelope(await get({}), 401, "UNAUTHORIZED");
  });

  it("unknown key → 401", async () => {
    expectErrorEnvelope(
      await get({ authorization: "Bearer ais-abcdefghij.notarealsecret" }),
      401,
      "UNAUTHORIZED",
    );
    expectErrorEnvelope(await get({ authorization: "Bearer garbage" }), 401, "UNAUTHORIZED");
  });

  it("right key id with a wrong secret → 401", async () => {
    const [head] = adminKey.split(".");
    expectErrorEnvelope(
      await get({ authorization: `Bearer ${head}.${"A".repeat(43)}` }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("revoked key → 401", async () => {
    const error = expectErrorEnvelope(
      await get({ authorization: `Bearer ${revokedKey}` }),
      401,
      "UNAUTHORIZED",
    );
    expect(error.message).toMatch(/revoked/);
  });

  it("valid key through Authorization and X-API-Key → 200 with its identity", async () => {
    const viaBearer = await get({ authorization: `Bearer ${inferenceKey}` });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body).toMatchObject({ kind: "api_key", name: "ide", scopes: ["inference"] });
    const viaHeader = await get({ "x-api-key": inferenceKey });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toEqual(viaBearer.body);
  });

  it("missing scope → 403; admin scope → 200", async () => {
    const error = expectErrorEnvelope(
      await get({ authorization: `Bearer ${inferenceKey}` }, "/v1/ai/keys"),
      403,
      "FORBIDDEN",
    );
    expect(error.details).toMatchObject({ required_scope: "admin" });
    expect((await get({ authorization: `Bearer ${adminKey}` }, "/v1/ai/keys")).status).toBe(200);
  });

  it("valid JWT → 200 with scopes from the token", async () => {
    const res = await get({ authorization: `Bearer ${await jwt({ scope: "inference monitoring" })}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: "jwt:alice", kind: "jwt", scopes: ["inference", "monitoring"] });
  });

  it("JWT with alg none → 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "alice", scope: "admin", exp: now + 300 })}.`;
    expectErrorEnvelope(await get({ authorization: `Bearer ${token}` }), 401, "UNAUTHORIZED");
  });

  it("JWT with a wrong signature → 401", async () => {
    const token = await jwt({ scope: "admin" }, { secret: new TextEncoder().encode("x".repeat(40)) });
    expectErrorEnvelope(await get({ authorization: `Bearer ${token}` }), 401, "UNAUTHORIZED");
  });

  it("expired JWT → 401", async () => {
    const token = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(secretBytes);
    const error = expectErrorEnvelope(await get({ authorization: `Bearer ${token}` }), 401, "UNAUTHORIZED");
    expect(error.message).toMatch(/expired/);
  });

  it("JWT lacking the route's scope → 403", async () => {
    const token = await jwt({ scope: "inference" });
    expectErrorEnvelope(await get({ authorization: `Bearer ${token}` }, "/v1/ai/keys"), 403, "FORBIDDEN");
  });

  it("operations routes stay open", async () => {
    expect((await get({}, "/healthz")).status).toBe(200);
    expect((await get({}, "/readyz")).status).toBe(200);
  });

  it("never logs or returns the key secret in listings", async () => {
    const res = await get({ authorization: `Bearer ${adminKey}` }, "/v1/ai/keys");
    const [, secret] = adminKey.split(".");
    expect(res.text).not.toContain(secret);
    expect(res.text).not.toContain("key_hash");
  });
});

describe("open mode on loopback", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ auth: { required: false } });
  });
  afterAll(() => server.stop());

  it("no credentials → anonymous with every scope", async () => {
    const res = await request(server.url, "/v1/ai/keys");
    expect(res.status).toBe(200);
    const me = await request(server.url, "/v1/ai/me");
    // Told apart by the connection's address (rate limits and logs are per anonymous caller).
    expect(me.body).toMatchObject({
      kind: "anonymous",
      id: expect.stringMatching(/^anon:(::ffff:)?127\.0\.0\.1$/),
    });
  });

  it("any cf- token is accepted (the codeflash client always sends one)", async () => {
    const res = await request(server.url, "/v1/ai/me", {
      headers: { authorization: "Bearer cf-anything-goes" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: "anonymous" });
  });

  it("a real key still identifies its principal (per-key rate limits and logs)", async () => {
    const { key } = await createApiKey(server.services.store.apiKeys, { name: "bob", scopes: ["inference"] });
    const res = await request(server.url, "/v1/ai/me", { headers: { authorization: `Bearer ${key}` } });
    expect(res.body).toMatchObject({ kind: "api_key", name: "bob" });
  });
});
