/**
 * The gateway for `gateway-overhead`: the real server with one OpenAI-compatible model `fast`
 * whose upstream is `BENCH_UPSTREAM_URL` (the fast-upstream child), so
 * `POST /v1/chat/completions` takes the byte passthrough path.
 */
import { serveBenchServer } from "./bench-server.js";

const upstream = process.env.BENCH_UPSTREAM_URL;
if (upstream === undefined || upstream === "") throw new Error("BENCH_UPSTREAM_URL is not set");

await serveBenchServer([{ id: "fast", provider: "openai-compatible", base_url: `${upstream}/v1` }]);
