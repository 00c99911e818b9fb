/**
 * API keys look like `<prefix><publicId>.<secret>`, e.g. `ais-7k2mq9xw0b.<43 base64url chars>`.
 * The public id finds the stored record without a table scan; only the SHA-256 of the whole key
 * is stored, so a database leak does not leak usable keys.
 */
import { hash, randomBytes, timingSafeEqual } from "node:crypto";

export const DEFAULT_API_KEY_PREFIX = "ais-";
export const API_KEY_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;

const PUBLIC_ID_LENGTH = 10;
// Crockford's base32 letters (no i, l, o, u) so ids read back unambiguously from a log or a screen.
const PUBLIC_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const SECRET_BYTES = 32;
// Parsing accepts any lowercase alphanumerics so that a change of alphabet never orphans old keys.
const PUBLIC_ID_PATTERN = /^[0-9a-z]{10}$/;
// 32 bytes in unpadded base64url are always exactly 43 characters.
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** The full key, shown to its owner once and never stored. */
  key: string;
  /** Public id: the record's primary key, safe to log. */
  id: string;
  prefix: string;
  /** What the store keeps (see `hashApiKey`). */
  keyHash: string;
}

export interface ParsedApiKey {
  prefix: string;
  id: string;
}

export function isValidApiKeyPrefix(prefix: string): boolean {
  return API_KEY_PREFIX_PATTERN.test(prefix);
}

export function generateApiKey(prefix: string = DEFAULT_API_KEY_PREFIX): GeneratedApiKey {
  if (!isValidApiKeyPrefix(prefix)) {
    throw new RangeError(`invalid API key prefix '${prefix}': use 1-16 characters of [A-Za-z0-9_-]`);
  }
  const id = randomPublicId();
  const key = `${prefix}${id}.${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { key, id, prefix, keyHash: hashApiKey(key) };
}

/**
 * SHA-256 hex of the whole key. A plain fast hash is enough: the secret carries 256 bits of
 * randomness, so brute force is hopeless and a slow KDF (bcrypt, scrypt) would only add
 * latency to every request.
 */
export function hashApiKey(key: string): string {
  // The one-shot hash: about half the cost of createHash().update().digest() per request.
  return hash("sha256", key, "hex");
}

/**
 * Splits a presented key into prefix and public id, or undefined when it cannot be one of ours.
 * The split is at the last `.` and the id is a fixed length, so prefixes may contain anything
 * from their alphabet (including characters of the id alphabet) without ambiguity.
 */
export function parseApiKey(token: string): ParsedApiKey | undefined {
  const dot = token.lastIndexOf(".");
  if (dot < 0) return undefined;
  const head = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  const id = head.slice(-PUBLIC_ID_LENGTH);
  const prefix = head.slice(0, -PUBLIC_ID_LENGTH);
  if (!PUBLIC_ID_PATTERN.test(id) || !isValidApiKeyPrefix(prefix) || !SECRET_PATTERN.test(secret)) {
    return undefined;
  }
  return { prefix, id };
}

/** Compares two hex digests without leaking, through timing, how many leading characters match. */
export function apiKeyHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  // Digests have a fixed length, so an early return on length reveals nothing secret.
  return left.length === right.length && timingSafeEqual(left, right);
}

function randomPublicId(): string {
  // 256 is a multiple of 32, so masking each byte keeps every character equally likely.
  let id = "";
  for (const byte of randomBytes(PUBLIC_ID_LENGTH)) id += PUBLIC_ID_ALPHABET[byte & 31];
  return id;
}
