import { expect } from "vitest";

interface Envelope {
  error: {
    code: string;
    message: string;
    details: Record<string, unknown>;
    timestamp: string;
    request_id: string;
  };
}

/**
 * The client-visible contract of every failure (spec/ai-api.md "Errors"): status, code, the
 * five envelope fields, and a request id that matches the X-Request-Id header.
 */
export function expectErrorEnvelope(
  res: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
): Envelope["error"] {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = res.body as Envelope;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "message", "request_id", "timestamp"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.details).toBe("object");
  expect(body.error.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
  return body.error;
}
