import {
  type ApiKeyRecord,
  createApiKey,
  openStore,
  revokeApiKey,
  SCOPES,
  type Store,
} from "@aiservice/server";
import type { Command } from "commander";
import { type CommonOptions, configFrom, withCommonOptions } from "./common-options.js";

async function withStore<T>(options: CommonOptions, use: (store: Store) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const store = await openStore({ dataDir: config.data_dir, databaseUrl: config.database_url });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function keyRow(k: ApiKeyRecord): string {
  const status = k.revokedAt === null ? "active" : `revoked ${k.revokedAt}`;
  return [
    k.id,
    k.name,
    `${k.prefix}…`,
    k.scopes.join(","),
    k.createdAt,
    k.lastUsedAt ?? "never",
    status,
  ].join("\t");
}

/** Key management straight on the store: works before the server runs, and while it runs. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command("keys").description("Manage API keys (stored hashed; a key is shown once)");

  withCommonOptions(
    keys
      .command("create")
      .description("Create an API key and print it once")
      .requiredOption("--name <name>", "who or what the key is for")
      .requiredOption("--scopes <list>", `comma-separated scopes: ${SCOPES.join(", ")}`)
      .option("--prefix <prefix>", "key prefix, e.g. cf- for the codeflash client", "ais-")
      .option("--json", "print JSON"),
  ).action(
    async (options: CommonOptions & { name: string; scopes: string; prefix: string; json?: boolean }) => {
      const scopes = options.scopes
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const created = await withStore(options, (store) =>
        createApiKey(store.apiKeys, { name: options.name, scopes: scopes as never, prefix: options.prefix }),
      );
      if (options.json) {
        console.log(
          JSON.stringify({ id: created.record.id, key: created.key, scopes: created.record.scopes }),
        );
      } else {
        console.log(created.key);
        console.error(
          `created key ${created.record.id} (${created.record.name}) with scopes ${created.record.scopes.join(",")}; ` +
            "this is the only time it is shown.",
        );
      }
    },
  );

  withCommonOptions(
    keys.command("list").description("List keys (never their secrets)").option("--json", "print JSON"),
  ).action(async (options: CommonOptions & { json?: boolean }) => {
    const list = await withStore(options, (store) => store.apiKeys.list());
    if (options.json) {
      console.log(JSON.stringify(list.map(({ keyHash: _hash, ...rest }) => rest)));
      return;
    }
    console.log(["ID", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "STATUS"].join("\t"));
    for (const k of list) console.log(keyRow(k));
  });

  withCommonOptions(
    keys.command("revoke").description("Revoke a key by its id").argument("<id>", "key id from `keys list`"),
  ).action(async (id: string, options: CommonOptions) => {
    const record = await withStore(options, (store) => revokeApiKey(store.apiKeys, id));
    console.error(`revoked key ${record.id} (${record.name}) at ${record.revokedAt}`);
  });
}
