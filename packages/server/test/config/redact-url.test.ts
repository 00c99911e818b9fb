import { describe, expect, it } from "vitest";
import { redactUrl } from "../../src/config/redact-config.js";

describe("redactUrl", () => {
  it("replaces the password and keeps the rest", () => {
    expect(redactUrl("postgres://app:s3cret@db.internal:5432/prod?sslmode=require")).toBe(
      "postgres://app:***@db.internal:5432/prod?sslmode=require",
    );
  });

  it("leaves a URL without a password as it is", () => {
    expect(redactUrl("postgres://postgres@127.0.0.1:5432/test")).toBe(
      "postgres://postgres@127.0.0.1:5432/test",
    );
  });

  it("hides a password given as a parameter", () => {
    const redacted = redactUrl("postgresql://app@db/prod?password=s3cret");
    expect(redacted).toBe("postgresql://app@db/prod?password=***");
  });

  it("hides the password of a URL that does not parse", () => {
    const redacted = redactUrl("postgres://app:p@ss w/rd@db:bad-port/prod");
    expect(redacted).not.toContain("ss w/rd");
    expect(redacted).toContain("postgres://app:***@db:bad-port/prod");
  });
});
