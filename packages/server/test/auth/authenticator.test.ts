import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateApiKey } from "../../src/auth/api-key-format.js";
import { Authenticator, type AuthenticatorOptions, requireScope } from "../../src/auth/authenticator.js";
import { createJwtVerifier } from "../../src/auth/jwt-verifier.js";
import { type Principal, SCOPES, type Scope } from "../../src/auth/principal.js";
import { ApiError } from "../../src/errors.js";
import type { ApiKeyRecord, ApiKeyRepository, NewApiKey } from "../../src/store/store.js";

/** Just enough of the store for authentication; `touchImpl` lets a test make touch fail. */
class MemoryApiKeys implements ApiKeyRepository {
  readonly records = new Map<string, ApiKeyRecord>();
  readonly touches: { id: string; at: Date }[] = [];
  findError: Error | undefined;
  touchImpl: (id: string, at: Date) => Promise<void> = async () => {};

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    const record = { ...key, createdAt: new Date().toISOString(), lastUsedAt: null, revokedAt: null };
    this.records.set(key.id, record);
    return record;
  }
  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    if (this.findError !== undefined) throw this.findError;
    return this.records.get(id);
  }
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.records.values()];
  }
  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.records.get(id);
    if (record !== undefined) record.revokedAt = new Date().toISOString();
    return record;
  }
  touch(id: string, at: Date): Promise<void> {
    this.touches.push({ id, at });
    return this.touchImpl(id, at);
  }
}

const SECRET = "a-test-secret-that-is-at-least-32-characters-long";
const jwtVerifier = createJwtVerifier({ secret: SECRET, leeway_seconds: 30, scopes_claim: "scope" });

function jwt(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("carol")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(secret));
}

async function unauthorized(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("UNAUTHORIZED");
    return (err as ApiError).message;
  }
  throw new Error("expected UNAUTHORIZED");
}

let repo: MemoryApiKeys;
let clock: number;

async function addKey(name: string, scopes: Scope[], prefix = "ais-"): Promise<{ key: string; id: string }> {
  const generated = generateApiKey(prefix);
  await repo.insert({ id: generated.id, name, prefix, keyHash: generated.keyHash, scopes });
  return generated;
}

function authenticator(options: Partial<AuthenticatorOptions> = {}): Authenticator {
  return new Authenticator({ apiKeys: repo, required: true, now: () => new Date(clock), ...options });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  repo = new MemoryApiKeys();
  clock = Date.parse("2025-01-01T00:00:00Z");
});

describe("required mode", () => {
  it("missing credentials → 401 that says what to send", async () => {
    const auth = authenticator();
    const expected = "missing credentials: send Authorization: Bearer <token> or X-API-Key";
    expect(await unauthorized(auth.authenticate({}))).toBe(expected);
    expect(await unauthorized(auth.authenticate({ authorization: "  ", apiKey: "" }))).toBe(expected);
  });

  it("a valid key through Bearer or X-API-Key → its principal", async () => {
    const { key, id } = await addKey("ide", ["inference"], "cf-");
    const auth = authenticator();
    const expected: Principal = {
      id: `key:${id}`,
      kind: "api_key",
      name: "ide",
      scopes: new Set(["inference"]),
    };
    expect(await auth.authenticate(bearer(key))).toEqual(expected);
    expect(await auth.authenticate({ apiKey: key })).toEqual(expected);
    expect(await auth.authenticate({ authorization: `bearer   ${key}  ` })).toEqual(expected);
  });

  it("Authorization wins over X-API-Key", async () => {
    const a = await addKey("a", ["inference"]);
    const b = await addKey("b", ["admin"]);
    const auth = authenticator();
    expect((await auth.authenticate({ ...bearer(a.key), apiKey: b.key })).name).toBe("a");
    await unauthorized(auth.authenticate({ ...bearer("wrong"), apiKey: b.key }));
  });

  it("a non-Bearer scheme → 401, unless X-API-Key carries the credentials", async () => {
    const { key } = await addKey("k", ["batch"]);
    const auth = authenticator();
    expect(await unauthorized(auth.authenticate({ authorization: "Basic dTpw" }))).toMatch(
      /Authorization scheme/,
    );
    expect((await auth.authenticate({ authorization: "Basic dTpw", apiKey: key })).name).toBe("k");
    expect(await unauthorized(auth.authenticate({ authorization: "Bearer" }))).toMatch(/empty Bearer token/);
    await unauthorized(auth.authenticate({ authorization: `Bearer${key}` }));
  });

  it("unknown id and wrong secret share one message; revoked says so", async () => {
    const { key, id } = await addKey("old", ["admin"]);
    const auth = authenticator();
    const other = generateApiKey();
    expect(await unauthorized(auth.authenticate(bearer(other.key)))).toBe("invalid API key");
    const tampered = `${key.slice(0, key.indexOf(".") + 1)}${"A".repeat(43)}`;
    expect(await unauthorized(auth.authenticate(bearer(tampered)))).toBe("invalid API key");
    expect(await unauthorized(auth.authenticate(bearer("garbage")))).toBe("invalid API key");
    // A different prefix on a genuine id and secret changes the hash: not the same key.
    expect(await unauthorized(auth.authenticate(bearer(`cf-${key.slice(4)}`)))).toBe("invalid API key");
    await repo.revoke(id);
    expect(await unauthorized(auth.authenticate(bearer(key)))).toBe("API key revoked");
    // Only the holder of the secret learns that the key was revoked.
    expect(await unauthorized(auth.authenticate(bearer(tampered)))).toBe("invalid API key");
  });

  it("JWT-shaped tokens go to the JWT verifier when one is configured", async () => {
    const auth = authenticator({ jwt: jwtVerifier });
    const principal = await auth.authenticate(bearer(await jwt({ scope: "monitoring" })));
    expect(principal).toEqual({
      id: "jwt:carol",
      kind: "jwt",
      name: "carol",
      scopes: new Set(["monitoring"]),
    });
    expect(await unauthorized(auth.authenticate(bearer(await jwt({}, "x".repeat(40)))))).toBe(
      "invalid token signature",
    );
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.`;
    expect(await unauthorized(auth.authenticate(bearer(none)))).toBe("token algorithm not allowed");
    // API keys still work next to JWT.
    const { key } = await addKey("k", ["inference"]);
    expect((await auth.authenticate({ apiKey: key })).kind).toBe("api_key");
  });

  it("without a JWT verifier a JWT is just an invalid API key", async () => {
    const auth = authenticator();
    expect(await unauthorized(auth.authenticate(bearer(await jwt({ scope: "admin" }))))).toBe(
      "invalid API key",
    );
  });

  it("store failures surface as they are, not as 401", async () => {
    const { key } = await addKey("k", ["inference"]);
    repo.findError = new Error("database is locked");
    await expect(authenticator().authenticate(bearer(key))).rejects.toThrow("database is locked");
  });
});

describe("open mode (loopback only)", () => {
  const open = (options: Partial<AuthenticatorOptions> = {}) =>
    authenticator({ required: false, ...options });

  it("no credentials → anonymous with every scope, keyed by client address", async () => {
    const principal = await open().authenticate({ clientAddress: () => "127.0.0.1" });
    expect(principal).toEqual({
      id: "anon:127.0.0.1",
      kind: "anonymous",
      name: "anonymous",
      scopes: new Set(SCOPES),
    });
    expect((await open().authenticate({})).id).toBe("anon:local");
  });

  it("credentials that do not verify are ignored (the codeflash client always sends one)", async () => {
    const { key, id } = await addKey("old", ["inference"]);
    await repo.revoke(id);
    const auth = open({ jwt: jwtVerifier });
    for (const credentials of [
      bearer("cf-anything-goes"),
      bearer(generateApiKey("cf-").key),
      bearer(key),
      bearer(await jwt({}, "y".repeat(40))),
      { authorization: "Basic dTpw" },
      { authorization: "Bearer" },
      { apiKey: "nope" },
    ]) {
      expect((await auth.authenticate({ ...credentials, clientAddress: () => "::1" })).id).toBe("anon:::1");
    }
  });

  it("credentials that verify still name their principal", async () => {
    const { key, id } = await addKey("bob", ["inference"]);
    const auth = open({ jwt: jwtVerifier });
    expect(await auth.authenticate(bearer(key))).toMatchObject({ id: `key:${id}`, kind: "api_key" });
    expect(await auth.authenticate(bearer(await jwt({})))).toMatchObject({ id: "jwt:carol", kind: "jwt" });
  });

  it("a broken store is still an error, not a silent downgrade", async () => {
    const { key } = await addKey("k", ["inference"]);
    repo.findError = new Error("disk I/O error");
    await expect(open().authenticate(bearer(key))).rejects.toThrow("disk I/O error");
  });
});

describe("touch", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  it("records use at most once per key per minute", async () => {
    const a = await addKey("a", ["inference"]);
    const b = await addKey("b", ["inference"]);
    // Without the key cache every request reaches the store, so only the throttle limits writes.
    const auth = authenticator({ keyCacheTtlMs: 0 });
    await auth.authenticate(bearer(a.key));
    await auth.authenticate(bearer(a.key));
    await auth.authenticate(bearer(b.key));
    expect(repo.touches.map((t) => t.id)).toEqual([a.id, b.id]);
    expect(repo.touches[0]?.at).toEqual(new Date(clock));
    clock += 59_000;
    await auth.authenticate(bearer(a.key));
    expect(repo.touches).toHaveLength(2);
    clock += 1_000;
    await auth.authenticate(bearer(a.key));
    expect(repo.touches.map((t) => t.id)).toEqual([a.id, b.id, a.id]);
  });

  it("trusts a verified key for the cache TTL; forgetKey revokes at once", async () => {
    const { key, id } = await addKey("a", ["inference"]);
    const auth = authenticator();
    await auth.authenticate(bearer(key));
    await repo.revoke(id); // as another process (the CLI) would: this authenticator is not told
    await auth.authenticate(bearer(key));
    clock += 5_001;
    await unauthorized(auth.authenticate(bearer(key)));

    const other = await addKey("b", ["inference"]);
    await auth.authenticate(bearer(other.key));
    await repo.revoke(other.id);
    auth.forgetKey(other.id); // revoked through this server's API
    await unauthorized(auth.authenticate(bearer(other.key)));
  });

  it("does not touch on failed or anonymous authentication", async () => {
    const { key, id } = await addKey("a", ["inference"]);
    await repo.revoke(id);
    await unauthorized(authenticator().authenticate(bearer(key)));
    await authenticator({ required: false }).authenticate(bearer(key));
    expect(repo.touches).toHaveLength(0);
  });

  it("a failing touch never fails the request nor becomes an unhandled rejection", async () => {
    const { key } = await addKey("a", ["inference"]);
    const reported: unknown[] = [];
    repo.touchImpl = () => Promise.reject(new Error("read-only database"));
    const auth = authenticator({ onTouchError: (error) => reported.push(error) });
    await expect(auth.authenticate(bearer(key))).resolves.toMatchObject({ name: "a" });

    // A touch that throws synchronously, and an error hook that throws, are contained too.
    repo.touchImpl = () => {
      throw new Error("sync failure");
    };
    const careless = authenticator({
      onTouchError: () => {
        throw new Error("hook failure");
      },
    });
    await expect(careless.authenticate(bearer(key))).resolves.toMatchObject({ name: "a" });

    repo.touchImpl = () => Promise.reject(new Error("no hook at all"));
    await expect(authenticator().authenticate(bearer(key))).resolves.toMatchObject({ name: "a" });

    await flush();
    expect(reported).toEqual([new Error("read-only database")]);
    expect(unhandled).toEqual([]);
  });
});

describe("requireScope", () => {
  const principal = (scopes: Scope[]): Principal => ({
    id: "p",
    kind: "jwt",
    name: "p",
    scopes: new Set(scopes),
  });

  it("passes with the scope or admin, else 403 naming the scope", () => {
    expect(() => requireScope(principal(["inference"]), "inference")).not.toThrow();
    expect(() => requireScope(principal(["admin"]), "models:manage")).not.toThrow();
    try {
      requireScope(principal(["inference"]), "batch");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({
        code: "FORBIDDEN",
        status: 403,
        message: "this route needs the 'batch' scope",
        details: { required_scope: "batch" },
      });
    }
  });
});
