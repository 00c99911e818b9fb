import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, requestTarget } from "../../../src/engine/providers/remote/http-post.js";
import { UpstreamReadTimeoutError } from "../../../src/engine/providers/remote/read-timeout-fetch.js";

/** A tiny upstream whose behaviour is chosen by the path. */
let server: Server;
let base: string;
const sockets = new Set<unknown>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/ok") res.end('{"ok":true}');
      else if (req.url === "/limited") {
        res.writeHead(429, { "retry-after": "2", "content-type": "application/json" });
        res.end('{"error":{"message":"slow down","type":"requests"}}');
      } else if (req.url === "/stall-body") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: 1\n\n");
      } else if (req.url === "/stall-headers") {
        // Never answers.
      }
    });
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = (overrides: Partial<Parameters<typeof postJson>[3]> = {}) => ({
  signal: new AbortController().signal,
  responseTimeoutMs: 2_000,
  readTimeoutMs: 2_000,
  ...overrides,
});

async function text(response: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe("postJson", () => {
  it("reuses keep-alive sockets without piling up timeout listeners", async () => {
    const before = sockets.size;
    for (let i = 0; i < 20; i++) {
      const response = await postJson(requestTarget(`${base}/ok`), "{}", {}, options());
      expect(await text(response)).toBe('{"ok":true}');
      expect(response.socket?.listenerCount("timeout") ?? 0).toBeLessThanOrEqual(1);
    }
    expect(sockets.size - before).toBe(1);
  });

  it("turns a status into the SDK's error with the upstream's message and headers", async () => {
    const error = await postJson(requestTarget(`${base}/limited`), "{}", {}, options()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain("slow down");
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe("2");
  });

  it("times out waiting for headers, and fails a body that goes silent", async () => {
    await expect(
      postJson(requestTarget(`${base}/stall-headers`), "{}", {}, options({ responseTimeoutMs: 100 })),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const response = await postJson(
      requestTarget(`${base}/stall-body`),
      "{}",
      {},
      options({ readTimeoutMs: 100 }),
    );
    await expect(text(response)).rejects.toBeInstanceOf(UpstreamReadTimeoutError);
  });

  it("aborts: before headers as APIUserAbortError, after them by closing the body", async () => {
    const early = new AbortController();
    const pending = postJson(
      requestTarget(`${base}/stall-headers`),
      "{}",
      {},
      options({ signal: early.signal }),
    );
    early.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    const late = new AbortController();
    const response = await postJson(
      requestTarget(`${base}/stall-body`),
      "{}",
      {},
      options({ signal: late.signal }),
    );
    const reading = text(response).catch((e: unknown) => e);
    late.abort();
    await reading;
    expect(response.destroyed).toBe(true);
  });

  it("a refused connection is an APIConnectionError", async () => {
    await expect(postJson(requestTarget("http://127.0.0.1:9/x"), "{}", {}, options())).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
  });
});

describe("requestTarget", () => {
  it("works out host, port and path once, IPv6 literals unbracketed", () => {
    expect(requestTarget("http://[::1]:8080/v1/chat/completions?x=1")).toEqual({
      protocol: "http:",
      hostname: "::1",
      port: "8080",
      path: "/v1/chat/completions?x=1",
    });
    expect(requestTarget("https://api.example.com/v1/completions").port).toBe("");
    expect(() => requestTarget("ftp://example.com/x")).toThrow(/not an http/);
  });
});
