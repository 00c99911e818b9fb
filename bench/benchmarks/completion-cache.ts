/**
 * `/v1/ai/inference/completion` answered from the cache vs computed by the embedded model: the
 * same request over real HTTP against the real server (compiled dist), with the generated bench
 * GGUF behind it. See bench/README.md.
 */
import { createApiKey } from "../../packages/server/dist/auth/api-key-service.js";
import { configSchema } from "../../packages/server/dist/config/schema.js";
import { createLogger } from "../../packages/server/dist/observability/logger.js";
import { startServer } from "../../packages/server/dist/server.js";
import type { BenchResult, BenchTarget } from "../lib/benchmark.js";
import { generateBenchModel, llamaThreads } from "../lib/llama.js";
import { median } from "../lib/load.js";

export const name = "completion-cache";
export const description =
  "POST /v1/ai/inference/completion: cache hit vs miss (embedded llama.cpp, generated 8×512 GGUF, 32 tokens)";
export const target: BenchTarget = { minRatio: 100, description: "a cache hit ≥ 100× faster than a miss" };

const ROUNDS = 5;
const HITS_PER_ROUND = 50;

export async function run(): Promise<BenchResult> {
  const model = await generateBenchModel();
  const config = configSchema.parse({
    data_dir: model.dir,
    server: { port: 0 },
    logging: { level: "silent" },
    auth: { required: true },
    rate_limits: { authenticated: 1_000_000, inference: 1_000_000 },
    models: [
      {
        id: "bench",
        provider: "llama-cpp",
        source: model.path,
        threads: llamaThreads(),
        gpu_layers: 0,
        context_length: 512,
      },
    ],
  });
  const server = await startServer(config, {
    logger: createLogger("silent"),
    processMetrics: false,
    env: {},
  });
  try {
    const { key } = await createApiKey(server.services.store.apiKeys, {
      name: "bench",
      scopes: ["inference"],
    });
    const post = async (i: number) => {
      const code = `def f${i}(a, b):\n    `;
      const started = performance.now();
      const res = await fetch(`${server.url}/v1/ai/inference/completion`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model_id: "bench",
          context: { language: "python", code, cursor_position: code.length },
          parameters: { max_tokens: 32, temperature: 0 },
        }),
      });
      const body = (await res.json()) as { completion?: { metadata: { cache_hit: boolean } } };
      if (res.status !== 200 || body.completion === undefined)
        throw new Error(`completion failed: ${res.status}`);
      return { ms: performance.now() - started, hit: body.completion.metadata.cache_hit };
    };
    await post(-1); // load the model and warm up
    const misses: number[] = [];
    const hits: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const miss = await post(round);
      if (miss.hit) throw new Error("a first request was served from the cache");
      misses.push(miss.ms);
      const times: number[] = [];
      for (let i = 0; i < HITS_PER_ROUND; i++) {
        const hit = await post(round);
        if (!hit.hit) throw new Error("a repeated temperature-0 request missed the cache");
        times.push(hit.ms);
      }
      hits.push(median(times));
    }
    const miss = median(misses);
    const hit = median(hits);
    return {
      sides: [
        {
          label: "cache hit",
          value: 1000 / hit,
          unit: "req/s",
          details: { "latency (median)": `${hit.toFixed(2)} ms` },
        },
        {
          label: "cache miss",
          value: 1000 / miss,
          unit: "req/s",
          details: { "latency (median)": `${miss.toFixed(1)} ms` },
        },
      ],
      ratio: miss / hit,
      ratioOf: "miss latency / hit latency",
      notes: [
        `${ROUNDS} rounds: one miss (a new prompt) then ${HITS_PER_ROUND} hits of it, sequential, one connection`,
        `${model.summary}; ${llamaThreads()} thread(s), 32 tokens per miss`,
      ],
    };
  } finally {
    await server.close();
    await model.remove();
  }
}
