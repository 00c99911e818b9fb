import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/principal.js";
import type { AppEnv } from "../http/context.js";
import { protectedRoute } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";

const principalSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["api_key", "jwt", "anonymous"]),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
  })
  .openapi("Principal");

/** `GET /v1/ai/me`: lets a client check its credentials and scopes without side effects. */
export function registerPrincipalRoute(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  app.openapi(
    protectedRoute(
      services,
      {},
      {
        method: "get",
        path: "/v1/ai/me",
        tags: ["auth"],
        summary: "Who am I: the authenticated principal and its scopes",
        responses: {
          200: { description: "The caller", content: { "application/json": { schema: principalSchema } } },
        },
      },
    ),
    (c) => {
      const principal = c.get("principal");
      return c.json(
        {
          id: principal.id,
          kind: principal.kind,
          name: principal.name,
          scopes: [...principal.scopes].sort(),
        },
        200,
      );
    },
  );
}
