/**
 * Requests per second of an authenticated JSON endpoint through the whole middleware stack
 * (request id, access log + metrics, body limit, API key auth, scope + rate limit guard, zod
 * OpenAPI route) against a bare Hono app answering the same body, on the same machine, in
 * alternating rounds. See bench/README.md.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, type BenchSide, type BenchTarget, envInt } from "../lib/benchmark.js";
import { type ChildServer, startChildServer } from "../lib/child-server.js";
import { ownCpuSeconds, ownSleeps, processCpuSeconds } from "../lib/cpu.js";
import { formatInt, formatMs, type LoadOptions, loadRound, median, percentiles } from "../lib/load.js";

export const name = "middleware-overhead";
export const description =
  "GET /v1/ai/me with an API key through the full middleware stack vs a bare Hono app";
export const target: BenchTarget = { minRatio: 0.7, description: "full stack ≥ 0.7 × bare Hono req/s" };

const PATH = "/v1/ai/me";
const CONNECTIONS = 32;

interface Side {
  label: string;
  server: ChildServer;
  rounds: number[];
  latenciesMs: number[];
  serverCpu: number[];
  /** Server CPU seconds per request, each round. */
  serverCpuPerRequest: number[];
  loadCpu: number[];
  /** Times the load generator went to sleep per request, each round (see `ownSleeps`). */
  loadSleeps: number[];
}

const serverScript = (file: string) => join(import.meta.dirname, "..", "servers", file);

/** `BENCH_CPU_PROF=<dir>` profiles both server children (written when they exit, named by pid). */
function cpuProfileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", "--cpu-prof-dir", dir];
}

async function getText(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

/** Runs one round on `side` and records throughput, latencies and the CPU both processes used. */
async function measure(side: Side, load: Omit<LoadOptions, "url">): Promise<void> {
  const wallStart = performance.now();
  const serverStart = processCpuSeconds(side.server.pid);
  const loadStart = ownCpuSeconds();
  const sleepsStart = ownSleeps();
  const round = await loadRound({ ...load, url: side.server.ready.url + PATH });
  const wall = (performance.now() - wallStart) / 1000;
  const serverEnd = processCpuSeconds(side.server.pid);
  const sleepsEnd = ownSleeps();
  side.rounds.push(round.requestsPerSecond);
  for (const latency of round.latenciesMs) side.latenciesMs.push(latency);
  if (serverStart !== undefined && serverEnd !== undefined) {
    side.serverCpu.push((serverEnd - serverStart) / wall);
    side.serverCpuPerRequest.push((serverEnd - serverStart) / round.requests);
  }
  side.loadCpu.push((ownCpuSeconds() - loadStart) / wall);
  if (sleepsStart !== undefined && sleepsEnd !== undefined)
    side.loadSleeps.push((sleepsEnd - sleepsStart) / round.requests);
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

function summarize(side: Side): BenchSide {
  const [p50, p99] = percentiles(side.latenciesMs, [0.5, 0.99]);
  return {
    label: side.label,
    value: median(side.rounds),
    unit: "req/s",
    details: {
      rounds: side.rounds.map(formatInt).join(" / "),
      p50: formatMs(p50!),
      p99: formatMs(p99!),
      "server CPU": side.serverCpu.length === 0 ? "n/a" : percent(median(side.serverCpu)),
      "server CPU/req":
        side.serverCpuPerRequest.length === 0
          ? "n/a"
          : `${(median(side.serverCpuPerRequest) * 1e6).toFixed(1)} µs`,
      "loadgen CPU": percent(median(side.loadCpu)),
      "loadgen sleeps/req": side.loadSleeps.length === 0 ? "n/a" : median(side.loadSleeps).toFixed(2),
    },
  };
}

export async function run(): Promise<BenchResult> {
  const rounds = envInt("BENCH_ROUNDS", 3);
  const seconds = envInt("BENCH_ROUND_SECONDS", 5);
  const warmupSeconds = envInt("BENCH_WARMUP_SECONDS", 2);
  const children: ChildServer[] = [];
  let dataDir: string | undefined;
  try {
    const full = await startChildServer(serverScript("full-stack.ts"), { execArgv: cpuProfileFlags() });
    children.push(full);
    if (typeof full.ready.dataDir === "string") dataDir = full.ready.dataDir;
    const { apiKey, serverModule } = full.ready;
    if (typeof apiKey !== "string") throw new Error("the full-stack server sent no API key");
    const headers = { authorization: `Bearer ${apiKey}` };

    // Sanity: auth is really enforced, and the authenticated answer is what the bare app serves.
    const anonymous = await getText(full.ready.url + PATH, {});
    if (anonymous.status !== 401) throw new Error(`expected 401 without a key, got ${anonymous.status}`);
    const expected = await getText(full.ready.url + PATH, headers);
    if (expected.status !== 200) {
      throw new Error(`expected 200 with the key, got ${expected.status}: ${expected.text}`);
    }

    const bare = await startChildServer(serverScript("bare-hono.ts"), {
      env: { BENCH_BODY: expected.text },
      execArgv: cpuProfileFlags(),
    });
    children.push(bare);
    const bareAnswer = await getText(bare.ready.url + PATH, headers);
    if (bareAnswer.status !== 200 || bareAnswer.text !== expected.text) {
      throw new Error(`bare app answers ${bareAnswer.status} ${bareAnswer.text}, not ${expected.text}`);
    }

    const empty = (label: string, server: ChildServer): Side => ({
      label,
      server,
      rounds: [],
      latenciesMs: [],
      serverCpu: [],
      serverCpuPerRequest: [],
      loadCpu: [],
      loadSleeps: [],
    });
    const sides = [empty("full stack", full), empty("bare hono", bare)] as const;
    const load = { connections: CONNECTIONS, seconds, headers };

    for (const side of sides) {
      await loadRound({ ...load, seconds: warmupSeconds, url: side.server.ready.url + PATH });
    }
    // Alternate the order every round (A B, B A, A B …) so slow drift of a shared machine
    // lands on both sides equally.
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
      for (const side of order) await measure(side, load);
    }

    const subject = summarize(sides[0]);
    const baseline = summarize(sides[1]);
    return {
      sides: [subject, baseline],
      ratio: subject.value / baseline.value,
      ratioOf: "full stack / bare hono median req/s",
      notes: [
        `${rounds} alternating rounds × ${seconds} s per side after ${warmupSeconds} s of warm-up each; ` +
          `${CONNECTIONS} connections, autocannon in the runner process, each server in its own process`,
        `latency percentiles pool every measured request of a side; body ${expected.text.length} bytes, identical on both`,
        `loadgen sleeps/req: how often the load generator waited for an answer, per request; near 1, the server ` +
          `wakes it for every answer, and that wake-up is paid inside the server's socket write (see bench/README.md)`,
        `full stack served by ${typeof serverModule === "string" ? serverModule : "?"}`,
        ...(cpuProfileFlags().length === 0
          ? []
          : [
              `CPU profiles in ${process.env.BENCH_CPU_PROF}: full stack pid ${full.pid}, bare hono pid ${bare.pid}`,
            ]),
      ],
    };
  } finally {
    await Promise.allSettled(children.map((child) => child.stop()));
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}
