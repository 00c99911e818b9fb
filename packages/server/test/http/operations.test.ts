import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorEnvelope } from "../helpers/envelope.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("operations endpoints", () => {
  it("/healthz and /readyz answer without credentials", async () => {
    expect((await request(server.url, "/healthz")).body).toEqual({ status: "ok" });
    const ready = await request(server.url, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", checks: { store: "ok" } });
  });

  it("/readyz fails with 503 when the store is gone", async () => {
    const other = await startTestServer();
    await other.services.store.close();
    const res = await request(other.url, "/readyz");
    const error = expectErrorEnvelope(res, 503, "SERVICE_UNAVAILABLE");
    expect((error.details.checks as Record<string, string>).store).not.toBe("ok");
    await other.stop();
  });

  it("/metrics counts requests by route pattern and status in Prometheus format", async () => {
    await request(server.url, "/v1/ai/keys/some-id", { method: "DELETE" });
    await request(server.url, "/does-not-exist");
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /aiservice_http_request_duration_seconds_count\{method="DELETE",route="\/v1\/ai\/keys\/:key_id",status="404"\} 1/,
    );
    expect(text).toMatch(
      /aiservice_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/,
    );
    expect(text).toContain("aiservice_http_request_duration_seconds_bucket");
  });

  it("/openapi.json is generated from the route schemas", async () => {
    const res = await request(server.url, "/openapi.json");
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/healthz", "/readyz", "/v1/ai/me", "/v1/ai/keys", "/v1/ai/keys/{key_id}"]),
    );
    expect(doc.paths["/v1/ai/keys"]?.post?.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
    expect(Object.keys(doc.paths["/v1/ai/keys"]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["201", "400", "401", "403", "429"]),
    );
    expect(doc.components.schemas).toHaveProperty("ErrorEnvelope");
    expect(doc.components.securitySchemes).toHaveProperty("bearerAuth");
  });

  it("/openapi.json patterns are plain ECMA-262 regexes that clients can use", async () => {
    const text = (await request(server.url, "/openapi.json")).text;
    const patterns = [...text.matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map(
      (m) => JSON.parse(m[1] ?? '""') as string,
    );
    expect(patterns.length).toBeGreaterThan(0);
    // No delimiters or flags: JSON Schema validators compile the pattern as it stands, Unicode mode.
    for (const pattern of patterns) expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
    for (const pattern of patterns) expect(pattern).not.toMatch(/^\/|\/[a-z]*$/);
    const refactor = (JSON.parse(text) as { components: { schemas: Record<string, unknown> } }).components
      .schemas.RefactorRequest as {
      properties: { context: { properties: { new_name: { pattern: string } } } };
    };
    const newName = new RegExp(refactor.properties.context.properties.new_name.pattern, "u");
    for (const name of ["total_sum", "переменная", "$el"]) expect(newName.test(name), name).toBe(true);
    expect(newName.test("2fast")).toBe(false);
  });

  it("/docs renders Swagger UI from local assets (no CDN)", async () => {
    const page = await fetch(`${server.url}/docs`);
    const html = await page.text();
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of [
      "/docs/assets/swagger-ui-bundle.js",
      "/docs/assets/swagger-ui.css",
      "/docs/init.js",
    ]) {
      expect(html).toContain(asset);
      const res = await fetch(`${server.url}${asset}`);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10);
    }
    expect((await fetch(`${server.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });
});
