import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { apiKeyCreateSchema, createApiKey, revokeApiKey } from "../auth/api-key-service.js";
import { SCOPES } from "../auth/principal.js";
import type { AppEnv } from "../http/context.js";
import { errorResponse, protectedRoute } from "../http/protected-route.js";
import type { AppServices } from "../http/services.js";
import type { ApiKeyRecord } from "../store/store.js";

const apiKeySchema = z
  .object({
    id: z.string().openapi({ example: "k7f3q2x9ab" }),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    status: z.enum(["active", "revoked"]),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().openapi({ description: "The secret key. Shown once; store it now." }) })
  .openapi("CreatedApiKey");

const keyIdParams = z.object({ key_id: z.string().min(1).max(64) });

function toApiKey(record: ApiKeyRecord): z.infer<typeof apiKeySchema> {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    scopes: record.scopes,
    status: record.revokedAt === null ? "active" : "revoked",
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
    revoked_at: record.revokedAt,
  };
}

/** API key management over HTTP (`admin` scope); the CLI's `keys` commands use the same service. */
export function registerApiKeyRoutes(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  const access = { scope: "admin" } as const;

  app.openapi(
    protectedRoute(services, access, {
      method: "post",
      path: "/v1/ai/keys",
      tags: ["keys"],
      summary: "Create an API key",
      request: { body: { required: true, content: { "application/json": { schema: apiKeyCreateSchema } } } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: createdApiKeySchema } } },
      },
    }),
    async (c) => {
      const created = await createApiKey(services.store.apiKeys, c.req.valid("json"));
      return c.json({ ...toApiKey(created.record), key: created.key }, 201);
    },
  );

  app.openapi(
    protectedRoute(services, access, {
      method: "get",
      path: "/v1/ai/keys",
      tags: ["keys"],
      summary: "List API keys (never their secrets)",
      responses: {
        200: {
          description: "All keys, newest first",
          content: { "application/json": { schema: z.object({ keys: z.array(apiKeySchema) }) } },
        },
      },
    }),
    async (c) => c.json({ keys: (await services.store.apiKeys.list()).map(toApiKey) }, 200),
  );

  app.openapi(
    protectedRoute(services, access, {
      method: "delete",
      path: "/v1/ai/keys/{key_id}",
      tags: ["keys"],
      summary: "Revoke an API key",
      request: { params: keyIdParams },
      responses: {
        200: { description: "Revoked", content: { "application/json": { schema: apiKeySchema } } },
        404: errorResponse("No such key"),
      },
    }),
    async (c) =>
      c.json(toApiKey(await revokeApiKey(services.store.apiKeys, c.req.valid("param").key_id)), 200),
  );
}
