import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import type { Authenticator } from "../../auth/authenticator.js";
import type { AppEnv } from "../context.js";

function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // Requests injected with app.request() (no socket) have no address.
    return undefined;
  }
}

/** Resolves the caller once per request; routes then only check scopes. */
export function authenticate(authenticator: Authenticator, trustProxy: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticator.authenticate({
      authorization: c.req.header("authorization"),
      apiKey: c.req.header("x-api-key"),
      clientAddress: () => clientAddress(c, trustProxy),
    });
    c.set("principal", principal);
    await next();
  };
}
