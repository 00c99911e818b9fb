import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt-verifier.js";
import type { JwtConfig } from "../../src/config/schema.js";
import { ApiError } from "../../src/errors.js";

const SECRET = "a-test-secret-that-is-at-least-32-characters-long";
const secretKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

function config(overrides: Partial<JwtConfig>): JwtConfig {
  return { leeway_seconds: 30, scopes_claim: "scope", ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const error = err as ApiError;
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.status).toBe(401);
    return error;
  }
  throw new Error("expected the token to be rejected");
}

// The lib setting has no DOM, so WebCrypto's key types are taken from jose's signatures.
type SigningKey = Parameters<SignJWT["sign"]>[0];
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

interface SignOptions {
  alg?: string;
  kid?: string;
  exp?: number | null;
  nbf?: number;
  sub?: string | null;
}

function sign(key: SigningKey, claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.alg ?? "HS256",
    ...(options.kid === undefined ? {} : { kid: options.kid }),
  });
  if (options.sub !== null) jwt.setSubject(options.sub ?? "alice");
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 300);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const unsigned = (claims: JWTPayload) =>
  `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "alice", exp: now() + 300, ...claims })}.`;

describe("HS256 with a shared secret", () => {
  const verifier = createJwtVerifier(config({ secret: SECRET }));

  it("accepts a valid token and builds the principal", async () => {
    const principal = await verifier.verify(await sign(secretKey, { scope: "inference monitoring" }));
    expect(principal).toEqual({
      id: "jwt:alice",
      kind: "jwt",
      name: "alice",
      scopes: new Set(["inference", "monitoring"]),
    });
  });

  it("rejects a wrong signature", async () => {
    const token = await sign(new TextEncoder().encode("x".repeat(40)), {});
    expect((await rejection(verifier.verify(token))).message).toBe("invalid token signature");
  });

  it("rejects an expired token, beyond the leeway", async () => {
    const error = await rejection(verifier.verify(await sign(secretKey, {}, { exp: now() - 60 })));
    expect(error.message).toBe("token expired");
    expect(error.cause).toBeDefined();
  });

  it("rejects nbf in the future, beyond the leeway", async () => {
    const error = await rejection(verifier.verify(await sign(secretKey, {}, { nbf: now() + 120 })));
    expect(error.message).toBe("token not yet valid (nbf)");
  });

  it("accepts exp and nbf within the leeway", async () => {
    await expect(verifier.verify(await sign(secretKey, {}, { exp: now() - 10 }))).resolves.toBeDefined();
    await expect(verifier.verify(await sign(secretKey, {}, { nbf: now() + 10 }))).resolves.toBeDefined();
  });

  it("honours a zero leeway", async () => {
    const strict = createJwtVerifier(config({ secret: SECRET, leeway_seconds: 0 }));
    await rejection(strict.verify(await sign(secretKey, {}, { exp: now() - 10 })));
  });

  it("requires exp and sub", async () => {
    expect((await rejection(verifier.verify(await sign(secretKey, {}, { exp: null })))).message).toBe(
      "token has no 'exp' claim",
    );
    expect((await rejection(verifier.verify(await sign(secretKey, {}, { sub: null })))).message).toBe(
      "token has no 'sub' claim",
    );
    await rejection(verifier.verify(await sign(secretKey, {}, { sub: "" })));
  });

  it("rejects alg none", async () => {
    const error = await rejection(verifier.verify(unsigned({ scope: "admin" })));
    expect(error.message).toBe("token algorithm not allowed");
  });

  it("rejects an RS256 token (algorithm family pinned)", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const error = await rejection(verifier.verify(await sign(privateKey, {}, { alg: "RS256" })));
    expect(error.message).toBe("token algorithm not allowed");
  });

  it("rejects malformed tokens", async () => {
    for (const token of ["", "a.b.c", "not-a-jwt", `${b64url({ alg: "HS256" })}.%%%.x`]) {
      expect((await rejection(verifier.verify(token))).message).toBe("malformed token");
    }
  });

  it("checks issuer and audience when configured", async () => {
    const checked = createJwtVerifier(
      config({ secret: SECRET, issuer: "https://idp", audience: "aiservice" }),
    );
    const good = await sign(secretKey, { iss: "https://idp", aud: "aiservice" });
    await expect(checked.verify(good)).resolves.toMatchObject({ id: "jwt:alice" });
    const wrongIssuer = await sign(secretKey, { iss: "https://evil", aud: "aiservice" });
    expect((await rejection(checked.verify(wrongIssuer))).message).toBe("token issuer not accepted");
    const wrongAudience = await sign(secretKey, { iss: "https://idp", aud: "other" });
    expect((await rejection(checked.verify(wrongAudience))).message).toBe("token audience not accepted");
    const noIssuer = await sign(secretKey, { aud: "aiservice" });
    expect((await rejection(checked.verify(noIssuer))).message).toBe("token has no 'iss' claim");
  });

  it("reads scopes from a string or an array, ignoring unknown names", async () => {
    const fromString = await verifier.verify(await sign(secretKey, { scope: " batch  bogus admin " }));
    expect(fromString.scopes).toEqual(new Set(["batch", "admin"]));
    const fromArray = await verifier.verify(
      await sign(secretKey, { scope: ["webhooks", 7, "nope", "batch"] }),
    );
    expect(fromArray.scopes).toEqual(new Set(["webhooks", "batch"]));
    const none = await verifier.verify(await sign(secretKey, {}));
    expect(none.scopes.size).toBe(0);
    const custom = createJwtVerifier(config({ secret: SECRET, scopes_claim: "permissions" }));
    const fromCustom = await custom.verify(
      await sign(secretKey, { permissions: ["inference"], scope: "admin" }),
    );
    expect(fromCustom.scopes).toEqual(new Set(["inference"]));
  });
});

interface JwksServer {
  url: string;
  hits: () => number;
  respond: (handler: JwksResponse) => void;
  close: () => Promise<void>;
}

type JwksResponse = { status: number; body: unknown } | "hang";

async function startJwksServer(initial: JwksResponse): Promise<JwksServer> {
  let response = initial;
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    if (response === "hang") return;
    res.writeHead(response.status, { "content-type": "application/json" });
    res.end(JSON.stringify(response.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    respond: (next) => {
      response = next;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("JWKS (RS256, ES256, EdDSA) through a local HTTP server", () => {
  const pairs = {} as Record<"RS256" | "ES256" | "EdDSA", KeyPair>;
  let keys: JWK[];
  let jwks: JwksServer;

  beforeAll(async () => {
    keys = [];
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      pairs[alg] = pair;
      keys.push({ ...(await exportJWK(pair.publicKey)), kid: alg, alg, use: "sig" });
    }
    jwks = await startJwksServer({ status: 200, body: { keys } });
  });
  afterAll(() => jwks.close());

  it("accepts tokens of every asymmetric algorithm, and caches the key set", async () => {
    const verifier = createJwtVerifier(config({ jwks_url: jwks.url }));
    const before = jwks.hits();
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const token = await sign(pairs[alg].privateKey, { scope: "inference" }, { alg, kid: alg });
      await expect(verifier.verify(token)).resolves.toMatchObject({ id: "jwt:alice", kind: "jwt" });
    }
    expect(jwks.hits() - before).toBe(1);
  });

  it("honours a narrower algorithm list", async () => {
    const verifier = createJwtVerifier(config({ jwks_url: jwks.url, algorithms: ["ES256"] }));
    const rs = await sign(pairs.RS256.privateKey, {}, { alg: "RS256", kid: "RS256" });
    expect((await rejection(verifier.verify(rs))).message).toBe("token algorithm not allowed");
    const es = await sign(pairs.ES256.privateKey, {}, { alg: "ES256", kid: "ES256" });
    await expect(verifier.verify(es)).resolves.toBeDefined();
  });

  it("rejects an HS256 token signed with the public key bytes (key confusion)", async () => {
    const verifier = createJwtVerifier(config({ jwks_url: jwks.url }));
    const publicPem = new TextEncoder().encode(await exportSPKI(pairs.RS256.publicKey));
    const token = await sign(publicPem, { scope: "admin" }, { alg: "HS256", kid: "RS256" });
    expect((await rejection(verifier.verify(token))).message).toBe("token algorithm not allowed");
    // Even a config that bypassed schema validation cannot make a key set verify HMAC.
    const misconfigured = createJwtVerifier(config({ jwks_url: jwks.url, algorithms: ["HS256"] }));
    await rejection(misconfigured.verify(token));
  });

  it("rejects alg none and a token whose key is not in the set", async () => {
    const verifier = createJwtVerifier(config({ jwks_url: jwks.url }));
    expect((await rejection(verifier.verify(unsigned({})))).message).toBe("token algorithm not allowed");
    const stranger = await generateKeyPair("ES256");
    const token = await sign(stranger.privateKey, {}, { alg: "ES256", kid: "someone-else" });
    expect((await rejection(verifier.verify(token))).message).toBe(
      "token signing key not found in the key set",
    );
    const forged = await sign(stranger.privateKey, {}, { alg: "ES256", kid: "ES256" });
    expect((await rejection(verifier.verify(forged))).message).toBe("invalid token signature");
  });
});

describe("JWKS failures", () => {
  async function signedRs256(): Promise<{ token: string; jwk: JWK }> {
    const pair = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" };
    return { token: await sign(pair.privateKey, {}, { alg: "RS256", kid: "k1" }), jwk };
  }

  it("an unreachable URL fails fast with UNAUTHORIZED and the cause attached", async () => {
    const closed = await startJwksServer({ status: 200, body: { keys: [] } });
    await closed.close();
    const verifier = createJwtVerifier(config({ jwks_url: closed.url }));
    const { token } = await signedRs256();
    const started = Date.now();
    const error = await rejection(verifier.verify(token));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toBe("the token key set (JWKS) could not be fetched");
    expect(error.cause).toBeDefined();
  });

  it("a server that never answers times out within a couple of seconds (default timeout)", async () => {
    const hanging = await startJwksServer("hang");
    try {
      const verifier = createJwtVerifier(config({ jwks_url: hanging.url }));
      const { token } = await signedRs256();
      const started = Date.now();
      const error = await rejection(verifier.verify(token));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.message).toBe("the token key set (JWKS) could not be fetched");
    } finally {
      await hanging.close();
    }
  });

  it("backs off after a failure, then recovers", async () => {
    const { token, jwk } = await signedRs256();
    const flaky = await startJwksServer({ status: 500, body: { error: "down" } });
    try {
      const options: JwtVerifierOptions = { jwksFailureBackoffMs: 200 };
      const verifier = createJwtVerifier(config({ jwks_url: flaky.url }), options);
      await rejection(verifier.verify(token));
      expect(flaky.hits()).toBe(1);
      flaky.respond({ status: 200, body: { keys: [jwk] } });
      // Within the backoff: no new fetch, same error.
      expect((await rejection(verifier.verify(token))).message).toMatch(/could not be fetched/);
      expect(flaky.hits()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 250));
      await expect(verifier.verify(token)).resolves.toMatchObject({ id: "jwt:alice" });
      expect(flaky.hits()).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  it("a response that is not a key set is reported as such", async () => {
    const bogus = await startJwksServer({ status: 200, body: { hello: "world" } });
    try {
      const verifier = createJwtVerifier(config({ jwks_url: bogus.url }));
      const error = await rejection(verifier.verify((await signedRs256()).token));
      expect(error.message).toBe("the token key set (JWKS) is not a valid public key set");
    } finally {
      await bogus.close();
    }
  });
});
