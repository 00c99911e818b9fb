/**
 * A server wired to a scripted OpenAI-compatible upstream (model `coder`), and scripted model
 * answers shaped like real ones, for the /ai/* tests.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConfigInput } from "../../src/config/schema.js";
import {
  type ReceivedRequest,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../helpers/scripted-upstream/index.js";
import { request, startTestServer, type TestServer } from "../helpers/test-server.js";

const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), "vectors");

export interface Vector {
  file: string;
  endpoint: string;
  request: unknown;
  expect: string;
}

/** The protocol's test vectors (copied from spec/codeflash-vectors). */
export function loadVectors(): Vector[] {
  return readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      file,
      ...(JSON.parse(readFileSync(join(VECTOR_DIR, file), "utf8")) as Omit<Vector, "file">),
    }));
}

export function vector(prefix: string): Vector {
  const found = loadVectors().find((v) => v.file.startsWith(prefix));
  if (found === undefined) throw new Error(`no vector ${prefix}`);
  return found;
}

export interface CodeflashHarness {
  server: TestServer;
  upstream: ScriptedUpstream;
  /** POSTs like the client: compact JSON, Bearer cf- token, Connection: close. */
  post(path: string, body: unknown, headers?: Record<string, string>): ReturnType<typeof request>;
  stop(): Promise<void>;
}

export async function startCodeflashHarness(overrides: Partial<ConfigInput> = {}): Promise<CodeflashHarness> {
  const upstream = await startScriptedUpstream({ models: ["coder", "coder-b"] });
  const remote = (id: string) => ({
    id,
    provider: "openai-compatible" as const,
    base_url: `${upstream.url}/v1`,
    model: id,
    max_retries: 0,
  });
  const server = await startTestServer({
    models: [remote("coder"), remote("coder-b")],
    ...overrides,
  });
  return {
    server,
    upstream,
    post: (path, body, headers = {}) =>
      request(server.url, path, {
        method: "POST",
        headers: { authorization: "Bearer cf-local-dev", connection: "close", ...headers },
        body,
      }),
    async stop() {
      await server.stop();
      await upstream.close();
    },
  };
}

/** The user message of a chat request the upstream received. */
export function userMessage(received: ReceivedRequest): string {
  const messages = received.body.messages as { role: string; content: string }[] | undefined;
  return (
    messages
      ?.filter((m) => m.role === "user")
      .map((m) => m.content)
      .join("\n") ?? ""
  );
}

const BLOCK = /```(\w+)(?::([^\n]*))?\n([\s\S]*?)\n```/g;

/** The client-format blocks of a markdown bundle: tag, path, code. */
export function blocksOf(markdown: string): { tag: string; path: string | undefined; code: string }[] {
  return [...markdown.matchAll(BLOCK)].map((m) => ({
    tag: m[1] ?? "",
    path: m[2]?.trim() || undefined,
    code: m[3] ?? "",
  }));
}

/** A real (if small) change per language: a distinct module-level constant appended per sample. */
function marker(tag: string, k: number): string {
  return tag === "python" ? `\n\n_SAMPLE_${k} = ${k}\n` : `\n\nexport const SAMPLE_${k} = ${k};\n`;
}

/**
 * A model answer the way chat models write one: prose, then the files of `markdown` with a
 * distinct change for sample `k` in ```tag:path blocks, then a closing sentence.
 */
export function candidateAnswer(markdown: string, k: number): string {
  const files = blocksOf(markdown)
    .map(
      (b) => `\`\`\`${b.tag}${b.path === undefined ? "" : `:${b.path}`}\n${b.code}${marker(b.tag, k)}\`\`\``,
    )
    .join("\n\n");
  return `Here is a faster version:\n\n${files}\n\nPrecomputed the keys once (variant ${k}).`;
}

/** A reply function that answers every candidate prompt with a fresh variant of `markdown`. */
export function candidateReplies(markdown: string): (request: ReceivedRequest) => string {
  let k = 0;
  return () => {
    k += 1;
    return candidateAnswer(markdown, k);
  };
}
