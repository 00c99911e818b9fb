import { z } from "zod";
import { notFound } from "../errors.js";
import type { ApiKeyRecord, ApiKeyRepository } from "../store/store.js";
import { API_KEY_PREFIX_PATTERN, DEFAULT_API_KEY_PREFIX, generateApiKey } from "./api-key-format.js";
import { SCOPES, type Scope } from "./principal.js";

/** Input of key creation, shared by `POST /v1/ai/keys` and `aiservice keys create`. */
export const apiKeyCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1, "give at least one scope"),
  prefix: z
    .string()
    .regex(API_KEY_PREFIX_PATTERN, "1-16 characters of letters, digits, '_' and '-'")
    .default(DEFAULT_API_KEY_PREFIX),
});
export type ApiKeyCreateInput = z.input<typeof apiKeyCreateSchema>;

export interface CreatedApiKey {
  record: ApiKeyRecord;
  /** The full key: returned once, never stored. */
  key: string;
}

export async function createApiKey(repo: ApiKeyRepository, input: ApiKeyCreateInput): Promise<CreatedApiKey> {
  const { name, scopes, prefix } = apiKeyCreateSchema.parse(input);
  const generated = generateApiKey(prefix);
  const record = await repo.insert({
    id: generated.id,
    name,
    prefix: generated.prefix,
    keyHash: generated.keyHash,
    scopes: [...new Set<Scope>(scopes)],
  });
  return { record, key: generated.key };
}

export async function revokeApiKey(repo: ApiKeyRepository, id: string): Promise<ApiKeyRecord> {
  const record = await repo.revoke(id);
  if (record === undefined) throw notFound(`no API key with id '${id}'`, { key_id: id });
  return record;
}
