/**
 * What the OpenAI-compatible route adds in front of a fast upstream: `POST /v1/chat/completions`
 * through the real server (auth, guard, validation, byte passthrough to an openai-compatible
 * model) against the same request sent to the upstream directly and through the Portkey AI
 * gateway, JSON and SSE, in alternating rounds. Reports throughput at 32 connections, latency
 * at one connection and each gateway's CPU time per proxied request. See bench/README.md.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, type BenchSide, type BenchTarget, envInt } from "../lib/benchmark.js";
import { type ChildServer, startChildServer } from "../lib/child-server.js";
import { ownCpuSeconds, processCpuSeconds } from "../lib/cpu.js";
import { formatInt, formatMs, loadRound, median, percentiles } from "../lib/load.js";

export const name = "gateway-overhead";
export const description =
  "POST /v1/chat/completions through the server to a fast OpenAI-compatible upstream vs the upstream directly vs Portkey";
export const target: BenchTarget = {
  minRatio: 3,
  description: "ours ≥ 3 × Portkey's req/s, JSON at 32 connections",
};

const PATH = "/v1/chat/completions";
const CONNECTIONS = 32;
/** The absolute targets. */
const MAX_CPU_US_PER_REQUEST = 250;
const MAX_ADDED_P50_JSON_MS = 0.3;
const MAX_ADDED_P50_SSE_MS = 1;

const request = (stream: boolean) =>
  JSON.stringify({
    model: "fast",
    messages: [{ role: "user", content: "Say hello." }],
    max_tokens: 16,
    ...(stream ? { stream: true } : {}),
  });

type Route = "gateway" | "direct" | "portkey" | "floor";

interface Side {
  route: Route;
  stream: boolean;
  connections: number;
  url: string;
  headers: Record<string, string>;
  /** The child whose CPU time is charged to this side: the gateway, or the upstream for direct. */
  server: ChildServer;
  rounds: number[];
  latenciesMs: number[];
  requests: number;
  serverCpuSeconds: number;
  /** Upstream CPU while the gateway side ran (undefined for direct, where it is `serverCpuSeconds`). */
  upstreamCpuSeconds: number;
  wallSeconds: number;
  loadCpuSeconds: number;
}

const serverScript = (file: string) => join(import.meta.dirname, "..", "servers", file);

/** `BENCH_CPU_PROF=<dir>` profiles the gateway child (written when it exits, named by pid). */
function cpuProfileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", "--cpu-prof-dir", dir];
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(url + PATH, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** The completion text of a JSON chat completion. */
function jsonText(text: string): string {
  const parsed = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
  const content = parsed.choices?.[0]?.message?.content;
  if (typeof content !== "string") throw new Error(`no choices[0].message.content in ${text}`);
  return content;
}

/** The completion text of an SSE chat completion stream, which must end with `data: [DONE]`. */
function sseText(text: string): string {
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trim());
  if (data.at(-1) !== "[DONE]") throw new Error(`the stream does not end with data: [DONE]: ${text}`);
  return data
    .slice(0, -1)
    .map((payload) => {
      const chunk = JSON.parse(payload) as { choices?: { delta?: { content?: unknown } }[] };
      const content = chunk.choices?.[0]?.delta?.content;
      return typeof content === "string" ? content : "";
    })
    .join("");
}

/** Every route answers 200 with the same completion text, JSON and SSE; ours needs its key. */
async function checkSameAnswers(
  routes: readonly { route: Route; url: string; headers: Record<string, string> }[],
) {
  const ours = routes.find((r) => r.route === "gateway");
  const anonymous = await post(ours?.url ?? "", request(false), {});
  if (anonymous.status !== 401)
    throw new Error(`gateway: expected 401 without a key, got ${anonymous.status}`);
  const texts: Record<string, string> = {};
  for (const stream of [false, true]) {
    for (const { route, url, headers } of routes) {
      const answer = await post(url, request(stream), headers);
      const what = `${route} ${stream ? "SSE" : "JSON"}`;
      if (answer.status !== 200)
        throw new Error(`${what}: expected 200, got ${answer.status}: ${answer.text}`);
      const wanted = stream ? "text/event-stream" : "application/json";
      if (!answer.contentType.startsWith(wanted)) {
        throw new Error(`${what}: content-type ${answer.contentType}, not ${wanted}`);
      }
      texts[what] = stream ? sseText(answer.text) : jsonText(answer.text);
    }
  }
  const distinct = new Set(Object.values(texts));
  if (distinct.size !== 1 || texts["direct JSON"] === "") {
    throw new Error(`the routes answer different completions: ${JSON.stringify(texts)}`);
  }
  return texts["direct JSON"]!;
}

async function measure(side: Side, seconds: number, upstream: ChildServer): Promise<void> {
  const wallStart = performance.now();
  const serverStart = processCpuSeconds(side.server.pid);
  const upstreamStart = processCpuSeconds(upstream.pid);
  const loadStart = ownCpuSeconds();
  const round = await loadRound({
    url: side.url + PATH,
    connections: side.connections,
    seconds,
    body: request(side.stream),
    headers: side.headers,
  });
  side.wallSeconds += (performance.now() - wallStart) / 1000;
  side.loadCpuSeconds += ownCpuSeconds() - loadStart;
  const serverEnd = processCpuSeconds(side.server.pid);
  const upstreamEnd = processCpuSeconds(upstream.pid);
  if (
    serverStart === undefined ||
    serverEnd === undefined ||
    upstreamStart === undefined ||
    upstreamEnd === undefined
  )
    throw new Error("no CPU time from /proc/<pid>/stat: this benchmark needs Linux");
  side.serverCpuSeconds += serverEnd - serverStart;
  side.upstreamCpuSeconds += upstreamEnd - upstreamStart;
  side.rounds.push(round.requestsPerSecond);
  side.requests += round.requests;
  for (const latency of round.latenciesMs) side.latenciesMs.push(latency);
}

/** Alternates the order every round (A B …, … B A) so drift of a shared machine hits all sides. */
async function alternate(
  sides: readonly Side[],
  rounds: number,
  seconds: number,
  warmupSeconds: number,
  upstream: ChildServer,
): Promise<void> {
  for (const side of sides) {
    await loadRound({
      url: side.url + PATH,
      connections: side.connections,
      seconds: warmupSeconds,
      body: request(side.stream),
      headers: side.headers,
    });
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) await measure(side, seconds, upstream);
  }
}

const p50p99 = (side: Side) => percentiles(side.latenciesMs, [0.5, 0.99]) as [number, number];
const cpuUsPerRequest = (side: Side) => (side.serverCpuSeconds / side.requests) * 1e6;
const percent = (share: number) => `${Math.round(share * 100)}%`;
const us = (n: number) => `${Math.round(n)} µs`;
const met = (ok: boolean) => (ok ? "met" : "MISSED");

export async function run(): Promise<BenchResult> {
  const rounds = envInt("BENCH_ROUNDS", 3);
  const seconds = envInt("BENCH_ROUND_SECONDS", 5);
  const warmupSeconds = envInt("BENCH_WARMUP_SECONDS", 2);
  const latencySeconds = envInt("BENCH_LATENCY_ROUND_SECONDS", 2);
  const children: ChildServer[] = [];
  let dataDir: string | undefined;
  try {
    const upstream = await startChildServer(serverScript("fast-upstream.ts"));
    children.push(upstream);
    const gateway = await startChildServer(serverScript("gateway.ts"), {
      env: { BENCH_UPSTREAM_URL: upstream.ready.url },
      execArgv: cpuProfileFlags(),
    });
    children.push(gateway);
    if (typeof gateway.ready.dataDir === "string") dataDir = gateway.ready.dataDir;
    const { apiKey, serverModule } = gateway.ready;
    if (typeof apiKey !== "string") throw new Error("the gateway server sent no API key");
    const portkey = await startChildServer(serverScript("portkey.ts"));
    children.push(portkey);
    const floor = await startChildServer(serverScript("minimal-proxy.ts"), {
      env: { BENCH_UPSTREAM_URL: upstream.ready.url },
    });
    children.push(floor);
    // Our key goes to the upstream directly too: it ignores it, so both send the same bytes.
    const headers: Record<Route, Record<string, string>> = {
      gateway: { authorization: `Bearer ${apiKey}` },
      direct: { authorization: `Bearer ${apiKey}` },
      portkey: {
        authorization: "Bearer sk-bench",
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${upstream.ready.url}/v1`,
      },
      floor: {},
    };
    const urls: Record<Route, string> = {
      gateway: gateway.ready.url,
      direct: upstream.ready.url,
      portkey: portkey.ready.url,
      floor: floor.ready.url,
    };
    const servers: Record<Route, ChildServer> = { gateway, direct: upstream, portkey, floor };

    const routes = (["gateway", "direct", "portkey", "floor"] as const).map((route) => ({
      route,
      url: urls[route],
      headers: headers[route],
    }));
    const completion = await checkSameAnswers(routes);

    const side = (route: Route, stream: boolean, connections: number): Side => ({
      route,
      stream,
      connections,
      url: urls[route],
      headers: headers[route],
      server: servers[route],
      rounds: [],
      latenciesMs: [],
      requests: 0,
      serverCpuSeconds: 0,
      upstreamCpuSeconds: 0,
      wallSeconds: 0,
      loadCpuSeconds: 0,
    });

    // (1) Throughput, JSON, 32 connections.
    const gw32 = side("gateway", false, CONNECTIONS);
    const direct32 = side("direct", false, CONNECTIONS);
    const pk32 = side("portkey", false, CONNECTIONS);
    await alternate([gw32, direct32, pk32], rounds, seconds, warmupSeconds, upstream);

    // (2) Latency at one connection, JSON and SSE (shorter rounds: one connection gives
    // thousands of samples a second, and latency is what is read here).
    const gwJson = side("gateway", false, 1);
    const directJson = side("direct", false, 1);
    const pkJson = side("portkey", false, 1);
    const gwSse = side("gateway", true, 1);
    const directSse = side("direct", true, 1);
    const pkSse = side("portkey", true, 1);
    const floorJson = side("floor", false, 1);
    const floorSse = side("floor", true, 1);
    await alternate(
      [gwJson, directJson, pkJson, floorJson, gwSse, directSse, pkSse, floorSse],
      rounds,
      latencySeconds,
      Math.min(warmupSeconds, 1),
      upstream,
    );

    const summarize = (label: string, s32: Side, json: Side, sse: Side): BenchSide => {
      const [p50, p99] = p50p99(s32);
      const [jsonP50, jsonP99] = p50p99(json);
      const [sseP50, sseP99] = p50p99(sse);
      return {
        label,
        value: median(s32.rounds),
        unit: "req/s",
        details: {
          rounds: s32.rounds.map(formatInt).join(" / "),
          p50: formatMs(p50),
          p99: formatMs(p99),
          "1-conn JSON p50 / p99": `${formatMs(jsonP50)} / ${formatMs(jsonP99)}`,
          "1-conn SSE p50 / p99": `${formatMs(sseP50)} / ${formatMs(sseP99)}`,
          "server CPU/req": us(cpuUsPerRequest(s32)),
          "server CPU": percent(s32.serverCpuSeconds / s32.wallSeconds),
          "loadgen CPU": percent(s32.loadCpuSeconds / s32.wallSeconds),
        },
      };
    };
    const subject = summarize("aiservice", gw32, gwJson, gwSse);
    const baseline = summarize("portkey", pk32, pkJson, pkSse);
    const direct = summarize("upstream directly", direct32, directJson, directSse);

    const added = (gw: Side, direct: Side) => {
      const [gP50, gP99] = p50p99(gw);
      const [dP50, dP99] = p50p99(direct);
      return { p50: gP50 - dP50, p99: gP99 - dP99 };
    };
    const addedJson = added(gwJson, directJson);
    const addedSse = added(gwSse, directSse);
    const portkeyJson = added(pkJson, directJson);
    const portkeySse = added(pkSse, directSse);
    const floorAddedJson = added(floorJson, directJson);
    const floorAddedSse = added(floorSse, directSse);
    const cpu32 = cpuUsPerRequest(gw32);
    const cpuJson1 = cpuUsPerRequest(gwJson);
    const cpuSse1 = cpuUsPerRequest(gwSse);
    const upstreamPerRequest = (s: Side) => us((s.upstreamCpuSeconds / s.requests) * 1e6);

    return {
      sides: [subject, baseline, direct],
      ratio: subject.value / baseline.value,
      ratioOf: "aiservice / Portkey median req/s, JSON, 32 connections",
      notes: [
        `aiservice / upstream directly: ${(subject.value / direct.value).toFixed(3)} of the upstream's req/s`,
        `added latency at one connection: JSON p50 +${formatMs(addedJson.p50)}, p99 +${formatMs(addedJson.p99)}; ` +
          `SSE p50 +${formatMs(addedSse.p50)}, p99 +${formatMs(addedSse.p99)} ` +
          `(Portkey: JSON p50 +${formatMs(portkeyJson.p50)}, SSE p50 +${formatMs(portkeySse.p50)})`,
        `the floor, a bare undici proxy in Node (servers/minimal-proxy.ts: no auth, no validation, nothing ` +
          `recorded), adds JSON p50 +${formatMs(floorAddedJson.p50)}, SSE p50 +${formatMs(floorAddedSse.p50)}: ` +
          `the cost of one more hop through a Node process on this machine; aiservice adds ` +
          `+${formatMs(addedJson.p50 - floorAddedJson.p50)} (JSON) / +${formatMs(addedSse.p50 - floorAddedSse.p50)} (SSE) over it`,
        `gateway CPU per proxied request: ${us(cpu32)} (JSON, 32 connections), ${us(cpuJson1)} (JSON, 1 connection), ` +
          `${us(cpuSse1)} (SSE, 1 connection); the upstream's own CPU per request meanwhile: ` +
          `${upstreamPerRequest(gw32)} / ${upstreamPerRequest(gwJson)} / ${upstreamPerRequest(gwSse)}; ` +
          `Portkey's CPU per request: ${us(cpuUsPerRequest(pk32))} / ${us(cpuUsPerRequest(pkJson))} / ${us(cpuUsPerRequest(pkSse))}`,
        `target ≤ ${MAX_CPU_US_PER_REQUEST} µs server CPU per proxied request (JSON, 32 connections): ` +
          `${met(cpu32 <= MAX_CPU_US_PER_REQUEST)} (${us(cpu32)})`,
        `target added p50 at one connection ≤ ${MAX_ADDED_P50_JSON_MS} ms (JSON): ` +
          `${met(addedJson.p50 <= MAX_ADDED_P50_JSON_MS)} (+${formatMs(addedJson.p50)})`,
        `target added p50 at one connection ≤ ${MAX_ADDED_P50_SSE_MS} ms (SSE): ` +
          `${met(addedSse.p50 <= MAX_ADDED_P50_SSE_MS)} (+${formatMs(addedSse.p50)})`,
        `"server CPU/req" and "server CPU" are each gateway child's own, and the upstream child's for "directly" ` +
          `(/proc/<pid>/stat, 10 ms ticks, summed over the rounds / requests served)`,
        `${rounds} alternating rounds × ${seconds} s per side at ${CONNECTIONS} connections after ${warmupSeconds} s ` +
          `of warm-up each, then ${rounds} × ${latencySeconds} s per side at 1 connection (JSON and SSE, the floor too); ` +
          `autocannon in the runner process; upstream, gateway and runner each in their own process`,
        `checked first: all four routes answer 200 with the same completion "${completion}" (JSON and SSE), ` +
          `ours 401 without the key; ours served by ${typeof serverModule === "string" ? serverModule : "?"}, ` +
          `Portkey by ${String(portkey.ready.serverModule)}`,
        ...(cpuProfileFlags().length === 0
          ? []
          : [`CPU profile in ${process.env.BENCH_CPU_PROF}: gateway pid ${gateway.pid}`]),
      ],
    };
  } finally {
    await Promise.allSettled(children.map((child) => child.stop()));
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}
