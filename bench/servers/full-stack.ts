/**
 * The subject of `middleware-overhead`: the real server with its whole middleware stack and no
 * models (this measures the HTTP stack; the default model would be fetched and loaded).
 */
import { serveBenchServer } from "./bench-server.js";

await serveBenchServer([]);
