import { describe, expect, it } from "vitest";
import { rateLimitHeaders } from "../../src/ratelimit/rate-limit-headers.js";

describe("rateLimitHeaders", () => {
  it("gives the RateLimit fields of an admitted request, without Retry-After", () => {
    const headers = rateLimitHeaders({
      allowed: true,
      category: "inference",
      limit: 100,
      remaining: 42,
      resetSeconds: 17,
      windowSeconds: 60,
    });
    expect(headers).toEqual({
      "RateLimit-Limit": "100",
      "RateLimit-Remaining": "42",
      "RateLimit-Reset": "17",
    });
  });

  it("adds Retry-After, equal to the reset, to a refusal", () => {
    const headers = rateLimitHeaders({
      allowed: false,
      category: "batch",
      limit: 10,
      remaining: 0,
      resetSeconds: 33,
      windowSeconds: 60,
    });
    expect(headers).toEqual({
      "RateLimit-Limit": "10",
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": "33",
      "Retry-After": "33",
    });
  });
});
