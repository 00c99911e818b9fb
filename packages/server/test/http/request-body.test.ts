/**
 * Request bodies reach the routes' validation whole and decoded the same way, whether Node had
 * the whole body in memory when the route asked for it (read straight from the buffer) or the
 * body was still arriving (read through the adapter's stream).
 */
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key-service.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

let server: TestServer;
let adminKey: string;

beforeAll(async () => {
  server = await startTestServer({ auth: { required: true } });
  adminKey = (await createApiKey(server.services.store.apiKeys, { name: "admin", scopes: ["admin"] })).key;
});
afterAll(() => server.stop());

/** One raw HTTP/1.1 POST whose body is written in parts, `pauseMs` apart; resolves with the status and body. */
async function postInParts(
  path: string,
  parts: Buffer[],
  pauseMs: number,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  const length = parts.reduce((n, p) => n + p.length, 0);
  const socket = connect(Number(port), hostname);
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`,
  );
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(pauseMs);
    socket.write(part);
  }
  await closed;
  const text = Buffer.concat(received).toString("utf8");
  const [head = "", body = ""] = text.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), body };
}

describe("request bodies", () => {
  it("decodes a body that is already here as UTF-8, byte order mark dropped as fetch does", async () => {
    const name = "naïve-ключ-🔑";
    const res = await request(server.url, "/v1/ai/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      rawBody: `\uFEFF${JSON.stringify({ name, scopes: ["inference"] })}`,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name, scopes: ["inference"] });
  });

  it("reads a body that is still arriving when the route asks for it", async () => {
    const json = Buffer.from(JSON.stringify({ name: "slow-ключ", scopes: ["inference"] }));
    // Split inside the two-byte "к": each part alone is not valid UTF-8.
    const cut = json.indexOf(Buffer.from("ключ")) + 1;
    const res = await postInParts("/v1/ai/keys", [json.subarray(0, cut), json.subarray(cut)], 100);
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: "slow-ключ" });
  });

  it("still answers a body that is not JSON with the envelope's 400", async () => {
    const res = await postInParts(
      "/v1/ai/keys",
      [Buffer.from('{"name": "x",'), Buffer.from(' "scopes": [')],
      0,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "INVALID_REQUEST" } });
  });
});
