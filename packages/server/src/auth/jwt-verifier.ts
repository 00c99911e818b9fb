/**
 * JWT verification with jose: HS256 with a shared secret, or RS256/ES256/EdDSA with keys from a
 * JWKS endpoint. The accepted algorithms are pinned per configuration, which is what rejects
 * `alg: none` and HS/RS key confusion: jose refuses any header `alg` outside the list before it
 * looks at a key.
 */
import {
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import type { JwtConfig } from "../config/schema.js";
import { ApiError } from "../errors.js";
import { isScope, type Principal, type Scope } from "./principal.js";

export interface JwtVerifier {
  /** Resolves the token's principal; throws `ApiError("UNAUTHORIZED")` for every failure. */
  verify(token: string): Promise<Principal>;
}

export interface JwtVerifierOptions {
  /** Abort a JWKS fetch after this long; a slow identity provider must not hang requests. */
  jwksTimeoutMs?: number;
  /** After a successful fetch, an unknown `kid` triggers a refetch at most this often. */
  jwksCooldownMs?: number;
  /** After a failed fetch, fail fast for this long instead of refetching on every request. */
  jwksFailureBackoffMs?: number;
}

const SECRET_ALGORITHMS = ["HS256"];
const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
const KEY_SET_UNAVAILABLE = "the token key set (JWKS) could not be fetched";

export function createJwtVerifier(config: JwtConfig, options: JwtVerifierOptions = {}): JwtVerifier {
  const verifyOptions: JWTVerifyOptions = {
    algorithms: config.algorithms ?? (config.secret === undefined ? JWKS_ALGORITHMS : SECRET_ALGORITHMS),
    clockTolerance: config.leeway_seconds,
    // A token without `exp` would be valid forever once leaked; issuers can always set one.
    requiredClaims: ["exp", "sub"],
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  };
  const key = keySource(config, options);
  // jose overloads on the key's kind, so the union is split once here.
  const verifyJwt = (token: string) =>
    key instanceof Uint8Array ? jwtVerify(token, key, verifyOptions) : jwtVerify(token, key, verifyOptions);

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyJwt(token));
      } catch (err) {
        throw toUnauthorized(err);
      }
      const subject = payload.sub;
      if (typeof subject !== "string" || subject === "") {
        throw new ApiError("UNAUTHORIZED", "token subject (sub) is empty");
      }
      return {
        id: `jwt:${subject}`,
        kind: "jwt",
        name: subject,
        scopes: scopesOf(payload[config.scopes_claim]),
      };
    },
  };
}

function keySource(config: JwtConfig, options: JwtVerifierOptions): Uint8Array | JWTVerifyGetKey {
  if (config.secret !== undefined) return new TextEncoder().encode(config.secret);
  if (config.jwks_url === undefined) throw new TypeError("JWT config needs `secret` or `jwks_url`");
  const remote = createRemoteJWKSet(new URL(config.jwks_url), {
    timeoutDuration: options.jwksTimeoutMs ?? 2_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
  });
  const backoffMs = options.jwksFailureBackoffMs ?? 5_000;
  let lastFailure: { at: number; cause: unknown } | undefined;

  return async (header, token) => {
    // Only a call that must fetch anyway fails fast; cached keys keep working during an outage.
    if (lastFailure !== undefined && !remote.fresh && Date.now() - lastFailure.at < backoffMs) {
      throw new ApiError("UNAUTHORIZED", KEY_SET_UNAVAILABLE, { cause: lastFailure.cause });
    }
    try {
      return await remote(header, token);
    } catch (err) {
      // These come from choosing a key in a set we did get; rethrown as is (jose reads them).
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported
      ) {
        throw err;
      }
      // Everything else is the fetch: network error, timeout, non-200, bad JSON, not a key set.
      lastFailure = { at: Date.now(), cause: err };
      const message =
        err instanceof errors.JWKSInvalid
          ? "the token key set (JWKS) is not a valid public key set"
          : KEY_SET_UNAVAILABLE;
      throw new ApiError("UNAUTHORIZED", message, { cause: err });
    }
  };
}

/** Scopes come as a space-separated string (RFC 8693 `scope`) or an array; unknown names are ignored. */
function scopesOf(claim: unknown): Set<Scope> {
  const names = typeof claim === "string" ? claim.split(" ") : Array.isArray(claim) ? claim : [];
  return new Set(names.filter((name): name is Scope => typeof name === "string" && isScope(name)));
}

/** Maps jose's errors to messages precise enough to debug a client, without echoing claims. */
function toUnauthorized(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const fail = (message: string) => new ApiError("UNAUTHORIZED", message, { cause: err });
  if (err instanceof errors.JWTExpired) return fail("token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return fail(`token has no '${err.claim}' claim`);
    switch (err.claim) {
      case "nbf":
        return fail("token not yet valid (nbf)");
      case "iat":
        return fail("token issued in the future (iat)");
      case "iss":
        return fail("token issuer not accepted");
      case "aud":
        return fail("token audience not accepted");
      default:
        return fail(`token claim '${err.claim}' is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return fail("token algorithm not allowed");
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail("invalid token signature");
  if (err instanceof errors.JWKSNoMatchingKey) return fail("token signing key not found in the key set");
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return fail("token signing key is ambiguous in the key set");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail("malformed token");
  if (err instanceof errors.JOSENotSupported) return fail("token algorithm or key type not supported");
  // Anything else (e.g. a too-short RSA key) is still the token's or issuer's problem, never a 500.
  return fail("invalid token");
}
