import type { Context, Hono } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { ApiError } from "../errors.js";
import type { AppEnv } from "./context.js";
import { renderError } from "./error-envelope.js";

/**
 * Hono answers a known path with an unknown method as a plain 404. Clients deserve a 405 with
 * `Allow`, so unmatched requests are checked against the registered routes: the router of
 * path → methods is built lazily and rebuilt only if routes were added since.
 */
export function notFoundHandler(app: Hono<AppEnv>) {
  let router: TrieRouter<string> | undefined;
  let builtFor = -1;

  const allowedMethods = (path: string): string[] => {
    if (router === undefined || builtFor !== app.routes.length) {
      router = new TrieRouter<string>();
      for (const route of app.routes) {
        // Middleware registrations (app.use) are method ALL; they don't make a path exist.
        if (route.method !== "ALL") router.add("ALL", route.path, route.method);
      }
      builtFor = app.routes.length;
    }
    const [matches] = router.match("ALL", path);
    const methods = new Set(matches.map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };

  return (c: Context<AppEnv>): Response => {
    const allowed = allowedMethods(c.req.path);
    // A path whose route exists for this very method (e.g. a handler's own notFound) is a 404.
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return renderError(
        c,
        new ApiError("METHOD_NOT_ALLOWED", `method ${c.req.method} is not allowed on ${c.req.path}`, {
          details: { allowed_methods: allowed },
          headers: { Allow: allowed.join(", ") },
        }),
      );
    }
    return renderError(c, new ApiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`));
  };
}
