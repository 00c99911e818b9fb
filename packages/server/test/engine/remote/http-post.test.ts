import { createServer, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CallAbort } from "../../../src/engine/providers/call-abort.js";
import { postJson, requestTarget } from "../../../src/engine/providers/remote/http-post.js";
import { UpstreamReadTimeoutError } from "../../../src/engine/providers/remote/read-timeout-fetch.js";

/** A tiny upstream whose behaviour is chosen by the path. */
let server: Server;
let base: string;
const sockets = new Set<unknown>();
/** What the `/big` route managed to write so far, and whether its client went away. */
const big = { written: 0, closed: false };
const BIG_TOTAL = 32 * 1024 * 1024;
const BIG_CHUNK = Buffer.alloc(64 * 1024, 120);

/** Writes BIG_TOTAL bytes as fast as the client takes them (waiting for 'drain'). */
function writeBig(res: ServerResponse): void {
  big.written = 0;
  big.closed = false;
  res.on("close", () => {
    big.closed = true;
  });
  res.writeHead(200, { "content-type": "application/octet-stream" });
  const pump = () => {
    while (big.written < BIG_TOTAL) {
      big.written += BIG_CHUNK.length;
      if (!res.write(BIG_CHUNK)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

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
      } else if (req.url === "/big") {
        writeBig(res);
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
  abort: new CallAbort(),
  responseTimeoutMs: 2_000,
  readTimeoutMs: 2_000,
  ...overrides,
});

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe("postJson", () => {
  it("reuses keep-alive connections for requests in turn", async () => {
    const before = sockets.size;
    for (let i = 0; i < 20; i++) {
      const response = await postJson(requestTarget(`${base}/ok`), "{}", {}, options());
      expect(response.status).toBe(200);
      expect(await text(response.body)).toBe('{"ok":true}');
    }
    // undici frees a connection a tick after the body ended, so the second request may open one more.
    expect(sockets.size - before).toBeLessThanOrEqual(2);
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
    await expect(text(response.body)).rejects.toBeInstanceOf(UpstreamReadTimeoutError);
  });

  it("aborts: before headers as APIUserAbortError, after them by closing the body", async () => {
    const early = new CallAbort();
    const pending = postJson(requestTarget(`${base}/stall-headers`), "{}", {}, options({ abort: early }));
    early.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    const late = new CallAbort();
    const response = await postJson(requestTarget(`${base}/stall-body`), "{}", {}, options({ abort: late }));
    const reading = text(response.body).catch((e: unknown) => e);
    late.abort();
    expect(await reading).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(response.destroyed).toBe(true);
  });

  it("pauses an upstream whose body is not being read, and delivers all of it once it is", async () => {
    const response = await postJson(requestTarget(`${base}/big`), "{}", {}, options());
    await sleep(300);
    // Unread, only socket buffers and the reader's high-water mark fill up: not the whole body.
    expect(big.written).toBeLessThan(BIG_TOTAL / 2);
    let received = 0;
    for await (const chunk of response.body) received += chunk.byteLength;
    expect(received).toBe(BIG_TOTAL);
  });

  it("a reader that stops early closes the upstream connection", async () => {
    const response = await postJson(requestTarget(`${base}/big`), "{}", {}, options());
    for await (const chunk of response.body) if (chunk.byteLength > 0) break;
    await vi.waitFor(() => expect(big.closed).toBe(true));
    expect(big.written).toBeLessThan(BIG_TOTAL);
  });

  it("a refused connection is an APIConnectionError", async () => {
    await expect(postJson(requestTarget("http://127.0.0.1:9/x"), "{}", {}, options())).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
  });
});

describe("requestTarget", () => {
  it("works out origin and path once", () => {
    expect(requestTarget("http://[::1]:8080/v1/chat/completions?x=1")).toEqual({
      origin: "http://[::1]:8080",
      path: "/v1/chat/completions?x=1",
    });
    expect(requestTarget("https://api.example.com/v1/completions").origin).toBe("https://api.example.com");
    expect(() => requestTarget("ftp://example.com/x")).toThrow(/not an http/);
  });
});

describe("CallAbort", () => {
  it("calls its callbacks once on abort, and is a standard AbortController for everyone else", () => {
    const abort = new CallAbort();
    const calls: string[] = [];
    abort.onAbort(() => calls.push("kept"));
    const remove = abort.onAbort(() => calls.push("removed"));
    remove();
    expect(abort.aborted).toBe(false);
    abort.abort(new Error("unloaded"));
    abort.abort(new Error("again"));
    expect(calls).toEqual(["kept"]);
    expect(abort.aborted).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect((abort.signal.reason as Error).message).toBe("unloaded");
    // Registered after the abort: called at once.
    abort.onAbort(() => calls.push("late"));
    expect(calls).toEqual(["kept", "late"]);
  });

  it("aborts a signal someone already holds, with the default reason when none is given", () => {
    const abort = new CallAbort();
    const { signal } = abort;
    let heard = false;
    signal.addEventListener("abort", () => (heard = true));
    abort.abort();
    expect(heard).toBe(true);
    expect((signal.reason as DOMException).name).toBe("AbortError");
  });
});
