/**
 * Streams a translated generation as OpenAI server-sent events: `data: <chunk>` per chunk, then
 * `data: [DONE]`. Failures before the first chunk are plain HTTP errors (the caller awaits the
 * first chunk before committing to a 200); a failure after it travels inside the stream as
 * `data: {"error": …}` and ends it, which OpenAI clients raise as an APIError.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { isApiError } from "../errors.js";
import type { GenerationChunk } from "../engine/providers/provider.js";
import type { AppEnv } from "../http/context.js";
import { openAIErrorFor } from "./errors.js";
import { type ChunkFormat, finishReasonOf } from "./translate.js";

export interface GenerationStream {
  chunks: AsyncIterator<GenerationChunk>;
  /** Already awaited by the caller, so that early failures are HTTP errors. */
  first: IteratorResult<GenerationChunk>;
  format: ChunkFormat;
  includeUsage: boolean;
  /** Aborted when the client goes away; cancels the generation. */
  abort: AbortController;
}

export function streamGeneration(c: Context<AppEnv>, stream: GenerationStream): Response {
  const { chunks, format, includeUsage, abort } = stream;
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => abort.abort());
    const send = (data: unknown) => sse.writeSSE({ data: JSON.stringify(data) });
    let finished = false;
    try {
      for (const opening of format.opening()) await send(opening);
      for (let next = stream.first; !next.done && !sse.aborted; next = await chunks.next()) {
        const chunk = next.value;
        if (chunk.text.length > 0 || chunk.tokens !== undefined) await send(format.text(chunk));
        if (chunk.finishReason === "cancelled") return;
        if (chunk.finishReason !== undefined) {
          await send(format.finish(finishReasonOf(chunk.finishReason)));
          if (includeUsage && chunk.usage !== undefined) await send(format.usage(chunk.usage));
          finished = true;
        }
      }
      if (sse.aborted) return;
      // A provider that ends without a finish reason stopped on its own terms.
      if (!finished) await send(format.finish("stop"));
      await sse.writeSSE({ data: "[DONE]" });
    } catch (err) {
      const logger = c.get("logger");
      if (!isApiError(err)) logger?.error({ err, request_id: c.get("requestId") }, "stream failed");
      else if (err.status >= 500) logger?.warn({ err, request_id: c.get("requestId") }, err.message);
      await send(openAIErrorFor(err));
    } finally {
      // Stopping early (client gone) closes the generator: the model is given back and recorded.
      await chunks.return?.();
    }
  });
}
