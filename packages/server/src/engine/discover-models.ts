import Anthropic from "@anthropic-ai/sdk";
import type { Logger } from "../observability/logger.js";
import type { EngineConfig, ModelEntry } from "./model-config.js";
import {
  discoverOllamaModels,
  discoverOpenAICompatibleModels,
  ollamaOrigin,
} from "./providers/openai-compatible/index.js";

const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";

interface DiscoverySource {
  name: string;
  list(): Promise<ModelEntry[]>;
}

/** The sources a fresh machine's environment names: OPENAI_*, OLLAMA_HOST, ANTHROPIC_API_KEY. */
function sourcesFromEnv(env: NodeJS.ProcessEnv, timeoutMs: number): DiscoverySource[] {
  const sources: DiscoverySource[] = [];
  const openaiBase = env.OPENAI_BASE_URL || (env.OPENAI_API_KEY ? OPENAI_DEFAULT_BASE_URL : undefined);
  if (openaiBase !== undefined) {
    const apiKey = env.OPENAI_API_KEY || undefined;
    sources.push({
      name: `OpenAI-compatible server at ${openaiBase}`,
      list: async () =>
        (await discoverOpenAICompatibleModels(openaiBase, apiKey, { timeoutMs })).map((id) => ({
          id,
          provider: "openai-compatible" as const,
          base_url: openaiBase,
          model: id,
          ...(apiKey === undefined ? {} : { api_key: apiKey }),
        })),
    });
  }
  if (env.OLLAMA_HOST) {
    const host = env.OLLAMA_HOST;
    sources.push({
      name: `Ollama at ${host}`,
      list: async () =>
        (await discoverOllamaModels(host, { timeoutMs })).map((name) => ({
          id: name,
          provider: "openai-compatible" as const,
          base_url: `${ollamaOrigin(host)}/v1`,
          model: name,
        })),
    });
  }
  if (env.ANTHROPIC_API_KEY) {
    const apiKey = env.ANTHROPIC_API_KEY;
    sources.push({
      name: "the Anthropic API",
      list: async () => {
        const client = new Anthropic({ apiKey, timeout: timeoutMs, maxRetries: 0 });
        const page = await client.models.list({ limit: 100 });
        return page.data.map((m) => ({
          id: m.id,
          name: m.display_name,
          provider: "anthropic" as const,
          api_key: apiKey,
          model: m.id,
          type: "chat" as const,
        }));
      },
    });
  }
  return sources;
}

/**
 * Models found through the environment at start-up, in addition to the configured ones (which
 * win on an id clash). A source that does not answer in time is logged and skipped: the server
 * starts anyway, offline included.
 */
export async function discoverModels(
  env: NodeJS.ProcessEnv,
  engine: EngineConfig,
  configuredIds: ReadonlySet<string>,
  logger: Logger,
): Promise<ModelEntry[]> {
  if (!engine.discovery) return [];
  const sources = sourcesFromEnv(env, engine.discovery_timeout_ms);
  const found = await Promise.all(
    sources.map(async (source) => {
      try {
        const entries = await source.list();
        logger.info({ source: source.name, models: entries.length }, "discovered models");
        return entries;
      } catch (err) {
        logger.warn(
          { source: source.name, err: err instanceof Error ? err.message : String(err) },
          "model discovery failed",
        );
        return [];
      }
    }),
  );
  const seen = new Set(configuredIds);
  return found.flat().filter((entry) => (seen.has(entry.id) ? false : (seen.add(entry.id), true)));
}
