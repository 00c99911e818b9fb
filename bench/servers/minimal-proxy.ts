/**
 * The floor for `gateway-overhead`'s latency: the least a proxy in Node can do, forwarding
 * `POST /v1/chat/completions` to `BENCH_UPSTREAM_URL` over a keep-alive undici pool and copying
 * the answer back as it arrives. No auth, no validation, nothing recorded: what one extra hop
 * through a Node process costs on this machine, which no gateway can go below.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { announceReady, stopOnRunnerExit } from "./lifecycle.js";

const upstream = process.env.BENCH_UPSTREAM_URL;
if (upstream === undefined || upstream === "") throw new Error("BENCH_UPSTREAM_URL is not set");
const pool = new Pool(upstream, { connections: 256 });

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  pool.dispatch(
    {
      path: req.url ?? "/",
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    },
    {
      // Its presence is what tells undici this handler speaks the current callback API.
      onRequestStart() {},
      onResponseStart(_controller, status, headers) {
        const out: Record<string, string> = {};
        for (const name of ["content-type", "content-length"]) {
          const value = headers[name];
          if (typeof value === "string") out[name] = value;
        }
        res.writeHead(status, out);
      },
      onResponseData(_controller, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_controller, error) {
        res.destroy(error);
      },
    },
  );
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => forward(req, res, Buffer.concat(chunks)));
});
server.listen(0, "127.0.0.1", () => {
  announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

stopOnRunnerExit(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
  await pool.close();
});
