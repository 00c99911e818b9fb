/**
 * The Portkey AI gateway (`@portkey-ai/gateway`, its own Node server) for `gateway-overhead`:
 * the comparison the issue asks for. Requests reach the fast upstream through Portkey's
 * `openai` provider with `x-portkey-custom-host`. Portkey starts from its CLI entry point, which
 * reads `--port=` and `--headless` from argv and listens on its own; this child picks a free
 * port, starts it, and reports ready once the port answers.
 */
import { createServer } from "node:net";
import { announceReady, stopOnRunnerExit } from "./lifecycle.js";

async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address !== null ? resolvePromise(address.port) : reject(),
      );
    });
  });
}

const port = await freePort();
process.argv.push(`--port=${port}`, "--headless");
// Its banner and start-up spinner are not the benchmark's business.
console.log = () => undefined;
process.stdout.write = () => true;
await import("@portkey-ai/gateway/build/start-server.js");

const url = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 15_000;
for (;;) {
  try {
    await fetch(`${url}/`);
    break;
  } catch (err) {
    if (Date.now() > deadline) throw err;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
  }
}
announceReady({ url, serverModule: "@portkey-ai/gateway 1.15.2 (@hono/node-server 1.14.1)" });
// Portkey owns its server; exiting the process is the way to stop it.
stopOnRunnerExit(async () => undefined);
