import { describe, expect, it } from "vitest";
import {
  apiKeyHashesEqual,
  DEFAULT_API_KEY_PREFIX,
  generateApiKey,
  hashApiKey,
  isValidApiKeyPrefix,
  parseApiKey,
} from "../../src/auth/api-key-format.js";

describe("generateApiKey", () => {
  it("builds <prefix><publicId>.<secret> with the default prefix", () => {
    const generated = generateApiKey();
    expect(generated.prefix).toBe(DEFAULT_API_KEY_PREFIX);
    expect(generated.id).toMatch(/^[0-9a-hjkmnp-tv-z]{10}$/);
    expect(generated.key).toMatch(/^ais-[0-9a-z]{10}\.[A-Za-z0-9_-]{43}$/);
    expect(generated.key.startsWith(`ais-${generated.id}.`)).toBe(true);
    expect(generated.keyHash).toBe(hashApiKey(generated.key));
    expect(generated.keyHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("round-trips through parseApiKey, for the codeflash cf- prefix too", () => {
    for (const prefix of ["ais-", "cf-", "x", "A_b-9", "p".repeat(16)]) {
      const generated = generateApiKey(prefix);
      expect(generated.key.startsWith(prefix)).toBe(true);
      expect(parseApiKey(generated.key)).toEqual({ prefix, id: generated.id });
    }
  });

  it("never repeats ids or secrets", () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length);
    expect(new Set(keys.map((k) => k.key)).size).toBe(keys.length);
  });

  it("refuses invalid prefixes", () => {
    for (const prefix of ["", "p".repeat(17), "a.b", "ümlaut", "sp ace", "slash/"]) {
      expect(isValidApiKeyPrefix(prefix)).toBe(false);
      expect(() => generateApiKey(prefix)).toThrow(RangeError);
    }
  });
});

describe("parseApiKey", () => {
  const secret = "A".repeat(43);

  it("splits at the last dot with a fixed-length id", () => {
    // The prefix may itself end in id characters; the fixed length keeps the split unambiguous.
    expect(parseApiKey(`cf-abc0123456789.${secret}`)).toEqual({ prefix: "cf-abc", id: "0123456789" });
  });

  it("returns undefined for garbage", () => {
    for (const token of [
      "",
      "garbage",
      "cf-anything-goes",
      ".",
      `.${secret}`,
      `0123456789.${secret}`, // no prefix
      `ais-012345678.${secret}`, // id too short after a prefix that ends in '-'
      `ais-ABCDEFGHIJ.${secret}`, // uppercase id
      "ais-0123456789.short",
      `ais-0123456789.${secret}=`,
      `ais-0123456789.${"A".repeat(44)}`,
      `ais.x-0123456789.${secret}`, // dot inside the prefix
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", // a JWT
    ]) {
      expect(parseApiKey(token), token).toBeUndefined();
    }
  });
});

describe("hash comparison", () => {
  it("matches the genuine key and rejects a tampered secret", () => {
    const { key, keyHash } = generateApiKey("cf-");
    expect(apiKeyHashesEqual(hashApiKey(key), keyHash)).toBe(true);
    const last = key.at(-1) === "A" ? "B" : "A";
    const tampered = `${key.slice(0, -1)}${last}`;
    expect(parseApiKey(tampered)).toBeDefined();
    expect(apiKeyHashesEqual(hashApiKey(tampered), keyHash)).toBe(false);
  });

  it("is false, not a throw, for different lengths", () => {
    expect(apiKeyHashesEqual("abc", "abcd")).toBe(false);
    expect(apiKeyHashesEqual("", "")).toBe(true);
  });
});
