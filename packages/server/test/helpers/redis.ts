import { randomUUID } from "node:crypto";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Whether the test Redis answers PING. Scale-out tests need it for real: under CI its absence
 * is a failure, elsewhere those tests are skipped (`describe.skipIf`) with the reason printed.
 */
export async function redisAvailable(url = TEST_REDIS_URL): Promise<boolean> {
  // No retries and no offline queue: an absent Redis must answer "no" within the timeout.
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    const reason = `Redis at ${url} is not reachable: ${error instanceof Error ? error.message : String(error)}`;
    if (process.env.CI) throw new Error(`${reason}; CI must provide it (set TEST_REDIS_URL)`);
    console.warn(`skipping Redis tests: ${reason}`);
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix no other test run shares, so parallel runs on one Redis never mix budgets. */
export function uniqueRedisPrefix(scope: string): string {
  return `aiservice-test:${scope}:${randomUUID()}`;
}

export interface RedisProxy {
  /** TEST_REDIS_URL with host and port replaced by the proxy's. */
  url: string;
  /** Keeps every connection open but forwards nothing more: a Redis that went silent. */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the test Redis. Frozen, it reproduces a partitioned or paused Redis
 * that a client still believes connected, without pausing the Redis other tests share.
 */
export async function startRedisProxy(target = TEST_REDIS_URL): Promise<RedisProxy> {
  const upstreamUrl = new URL(target);
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on("data", (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on("error", () => {});
      from.on("close", () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
