/**
 * Turns the credentials of a request into a Principal (spec/ai-api.md "Auth"). Framework-free:
 * the HTTP middleware passes the raw header values in and attaches the result.
 */
import { ApiError } from "../errors.js";
import type { ApiKeyRecord, ApiKeyRepository } from "../store/store.js";
import { apiKeyHashesEqual, hashApiKey, parseApiKey } from "./api-key-format.js";
import type { JwtVerifier } from "./jwt-verifier.js";
import { hasScope, type Principal, SCOPES, type Scope } from "./principal.js";

export interface AuthenticatorOptions {
  apiKeys: ApiKeyRepository;
  jwt?: JwtVerifier;
  /** False is open mode: only allowed on loopback (enforced where the server binds). */
  required: boolean;
  /** Minimum time between two `touch` writes for one key; default one minute. */
  touchIntervalMs?: number;
  /** Called when recording a key's use fails; the request goes on regardless. */
  onTouchError?: (error: unknown, keyId: string) => void;
  now?: () => Date;
  /**
   * How long a verified API key is trusted without asking the store again. The store lookup
   * dominated the cost of an authenticated request; the price is that a key revoked by another
   * process (the CLI, another replica) still works for up to this long. Default 5 s; 0 disables.
   */
  keyCacheTtlMs?: number;
}

/** Upper bound of cached keys, so a flood of distinct valid keys cannot grow memory unbounded. */
const KEY_CACHE_LIMIT = 10_000;

export interface Credentials {
  /** The raw `Authorization` header. */
  authorization?: string | undefined;
  /** The raw `X-API-Key` header. */
  apiKey?: string | undefined;
  /**
   * The caller's address, used to tell anonymous callers apart (rate limits, logs). A function,
   * so that only requests that end up anonymous pay for working it out.
   */
  clientAddress?: (() => string | undefined) | undefined;
}

const MISSING_CREDENTIALS = "missing credentials: send Authorization: Bearer <token> or X-API-Key";
const INVALID_API_KEY = "invalid API key";
// Three base64url segments; the signature may be empty so that `alg: none` tokens reach the JWT
// verifier and get its precise error. API keys have exactly one dot, so they never match.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class Authenticator {
  private readonly apiKeys: ApiKeyRepository;
  private readonly jwt: JwtVerifier | undefined;
  private readonly required: boolean;
  private readonly touchIntervalMs: number;
  private readonly onTouchError: (error: unknown, keyId: string) => void;
  private readonly now: () => Date;
  /** Last `touch` per key id; bounded by the number of valid keys, which is small. */
  private readonly lastTouch = new Map<string, number>();
  private readonly keyCacheTtlMs: number;
  /** Verified keys by hash (never the key itself): principal, key id and expiry. */
  private readonly keyCache = new Map<string, { principal: Principal; keyId: string; expires: number }>();

  constructor(options: AuthenticatorOptions) {
    this.apiKeys = options.apiKeys;
    this.jwt = options.jwt;
    this.required = options.required;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.onTouchError = options.onTouchError ?? (() => {});
    this.now = options.now ?? (() => new Date());
    this.keyCacheTtlMs = options.keyCacheTtlMs ?? 5_000;
  }

  /** Drops a key from the cache at once (called when this process revokes it). */
  forgetKey(keyId: string): void {
    for (const [hash, cached] of this.keyCache) if (cached.keyId === keyId) this.keyCache.delete(hash);
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    const token = presentedToken(credentials);
    if (this.required) {
      if (token === undefined) throw new ApiError("UNAUTHORIZED", MISSING_CREDENTIALS);
      if ("error" in token) throw new ApiError("UNAUTHORIZED", token.error);
      return this.verify(token.value);
    }
    // Open mode: the codeflash client always sends some `Bearer cf-…` token, so a token that does
    // not verify is ignored rather than refused; one that verifies still names its principal.
    if (token !== undefined && !("error" in token)) {
      try {
        return await this.verify(token.value);
      } catch (err) {
        // Only verification failures fall back; a broken store still surfaces as an error.
        if (!(err instanceof ApiError && err.code === "UNAUTHORIZED")) throw err;
      }
    }
    return anonymous(credentials.clientAddress?.());
  }

  private verify(token: string): Promise<Principal> {
    if (this.jwt !== undefined && JWT_SHAPE.test(token)) return this.jwt.verify(token);
    return this.verifyApiKey(token);
  }

  private async verifyApiKey(token: string): Promise<Principal> {
    const parsed = parseApiKey(token);
    if (parsed === undefined) throw new ApiError("UNAUTHORIZED", INVALID_API_KEY);
    const hash = hashApiKey(token);
    const nowMs = this.now().getTime();
    const cached = this.keyCache.get(hash);
    if (cached !== undefined && cached.expires > nowMs) return cached.principal;
    const record = await this.apiKeys.findById(parsed.id);
    // Unknown id and wrong secret share one message so ids cannot be probed.
    if (record === undefined || !apiKeyHashesEqual(hash, record.keyHash)) {
      throw new ApiError("UNAUTHORIZED", INVALID_API_KEY);
    }
    // Checked after the hash so that only the key's holder learns it was revoked.
    if (record.revokedAt !== null) {
      this.keyCache.delete(hash);
      throw new ApiError("UNAUTHORIZED", "API key revoked");
    }
    this.recordUse(record);
    const principal: Principal = {
      id: `key:${record.id}`,
      kind: "api_key",
      name: record.name,
      scopes: new Set(record.scopes),
    };
    if (this.keyCacheTtlMs > 0) {
      this.keyCache.delete(hash);
      if (this.keyCache.size >= KEY_CACHE_LIMIT) {
        const oldest = this.keyCache.keys().next().value;
        if (oldest !== undefined) this.keyCache.delete(oldest);
      }
      this.keyCache.set(hash, { principal, keyId: record.id, expires: nowMs + this.keyCacheTtlMs });
    }
    return principal;
  }

  /** Fire-and-forget `touch`, at most once per key per interval so a hot key does not write per request. */
  private recordUse(record: ApiKeyRecord): void {
    const now = this.now();
    const last = this.lastTouch.get(record.id);
    if (last !== undefined && now.getTime() - last < this.touchIntervalMs) return;
    this.lastTouch.set(record.id, now.getTime());
    const report = (error: unknown) => {
      try {
        this.onTouchError(error, record.id);
      } catch {
        // A failing error hook must not turn into an unhandled rejection either.
      }
    };
    try {
      this.apiKeys.touch(record.id, now).catch(report);
    } catch (error) {
      report(error);
    }
  }
}

/** Throws 403 unless the principal has `scope` (or `admin`). */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) {
    throw new ApiError("FORBIDDEN", `this route needs the '${scope}' scope`, {
      details: { required_scope: scope },
    });
  }
}

type PresentedToken = { value: string } | { error: string };

/**
 * A Bearer `Authorization` header wins over `X-API-Key`. Another scheme (say Basic, added by a
 * proxy in front) is not ours: `X-API-Key` is then used when present, else it is an error.
 */
function presentedToken(credentials: Credentials): PresentedToken | undefined {
  const authorization = credentials.authorization?.trim() ?? "";
  const apiKey = credentials.apiKey?.trim() ?? "";
  if (authorization !== "") {
    const match = /^Bearer(?:\s+(.*))?$/i.exec(authorization);
    if (match !== null) {
      const value = match[1]?.trim() ?? "";
      return value === "" ? { error: "empty Bearer token in the Authorization header" } : { value };
    }
    if (apiKey === "")
      return { error: "unsupported Authorization scheme: use Authorization: Bearer <token>" };
  }
  return apiKey === "" ? undefined : { value: apiKey };
}

function anonymous(clientAddress: string | undefined): Principal {
  return {
    id: `anon:${clientAddress === undefined || clientAddress === "" ? "local" : clientAddress}`,
    kind: "anonymous",
    name: "anonymous",
    scopes: new Set(SCOPES),
  };
}
