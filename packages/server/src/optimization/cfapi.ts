/**
 * A stand-in for codeflash's second service, `cfapi` (spec/codeflash-protocol.md §11), so a
 * self-hosted run needs nothing from the internet: the client asks it who the user is and tells
 * it when an optimization was found, and an unreachable cfapi stops the client. Pull-request
 * and GitHub endpoints are not served: run the client with `--no-pr`.
 */
import { Hono } from "hono";
import { ApiError } from "../errors.js";
import type { AppServices } from "../http/services.js";

/** What `GET /cfapi/cli-get-user` answers: the client only displays and caches it. */
const LOCAL_USER = "aiservice-local";

export function buildCfapiApp(services: Pick<AppServices, "authenticator" | "logger">): Hono {
  const app = new Hono();
  // The client checks the key here once per run; a 403 makes it exit with "invalid API key",
  // which is the right outcome for a key this server refuses (open mode accepts any).
  app.use(async (c, next) => {
    try {
      await services.authenticator.authenticate({ authorization: c.req.header("authorization") });
    } catch (err) {
      if (err instanceof ApiError && err.code === "UNAUTHORIZED") return c.json({ error: err.message }, 403);
      throw err;
    }
    return next();
  });
  app.get("/cfapi/cli-get-user", (c) => c.text(LOCAL_USER));
  app.post("/cfapi/mark-as-success", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    services.logger.info(
      { trace_id: body.trace_id, is_optimization_found: body.is_optimization_found },
      "codeflash reported an optimization run",
    );
    return c.json({ ok: true });
  });
  // Nothing is e-mailed from a self-hosted server; acknowledging keeps the client's log clean.
  app.post("/cfapi/send-completion-email", (c) => c.json({ ok: true }));
  app.notFound((c) =>
    c.json(
      {
        error: `${c.req.method} ${c.req.path} is not served by aiservice's cfapi stand-in: pull requests and GitHub features need codeflash's own service (run the client with --no-pr)`,
      },
      404,
    ),
  );
  app.onError((err, c) => {
    services.logger.error({ err }, "cfapi stand-in failed");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
