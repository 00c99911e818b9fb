import type { HttpBindings } from "@hono/node-server";
import type { Logger } from "pino";
import type { Principal } from "../auth/principal.js";

/** Per-request values shared by the middleware chain and handlers. */
export interface AppVariables {
  requestId: string;
  /** Set by the authentication middleware on /v1/ai and /ai routes. */
  principal: Principal;
  logger: Logger;
}

export interface AppEnv {
  Bindings: HttpBindings;
  Variables: AppVariables;
}
