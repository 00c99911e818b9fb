import { Socket } from "node:net";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Whether the test Redis answers. Scale-out tests need it for real: under CI its absence is a
 * failure, elsewhere those tests are skipped with this reason printed.
 */
export async function redisAvailable(url = TEST_REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(Number(port || 6379), hostname, () => done(true));
  });
  if (!reachable) {
    const reason = `Redis at ${url} is not reachable`;
    if (process.env.CI) throw new Error(`${reason}; CI must provide it (set TEST_REDIS_URL)`);
    console.warn(`skipping Redis tests: ${reason}`);
  }
  return reachable;
}
