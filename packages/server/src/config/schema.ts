/**
 * The configuration: one zod schema, the single source of truth for defaults, validation and
 * `aiservice config print`. Keys are snake_case like the YAML file that feeds them.
 */
import { z } from "zod";
import { DEFAULT_MODELS, engineSchema, modelEntrySchema } from "../engine/model-config.js";
import { optimizationConfigSchema } from "../optimization/optimization-config.js";

const port = z.number().int().min(0).max(65535);

const jwtSchema = z
  .strictObject({
    /** HS256 shared secret. Exactly one of `secret` and `jwks_url` must be set. */
    secret: z.string().min(32, "must be at least 32 characters (256 bits) for HS256").optional(),
    /** JWKS endpoint for RS256 / ES256 / EdDSA tokens. */
    jwks_url: z.url().optional(),
    /** Accepted algorithms, pinned: HS and asymmetric families never mix. */
    algorithms: z
      .array(z.enum(["HS256", "RS256", "ES256", "EdDSA"]))
      .min(1)
      .optional(),
    issuer: z.string().optional(),
    audience: z.string().optional(),
    leeway_seconds: z.number().int().min(0).max(300).default(30),
    /** Claim holding the scopes: a space-separated string or an array. */
    scopes_claim: z.string().default("scope"),
  })
  .superRefine((jwt, ctx) => {
    if ((jwt.secret === undefined) === (jwt.jwks_url === undefined)) {
      ctx.addIssue({ code: "custom", message: "set exactly one of `secret` (HS256) and `jwks_url`" });
    }
    const algs = jwt.algorithms ?? [];
    if (jwt.secret !== undefined && algs.some((a) => a !== "HS256")) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: "with `secret` only HS256 is allowed" });
    }
    if (jwt.jwks_url !== undefined && algs.includes("HS256")) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: "with `jwks_url` HS256 is not allowed" });
    }
  });

const rateLimitsSchema = z.strictObject({
  window_seconds: z.number().int().min(1).max(86_400).default(60),
  authenticated: z.number().int().min(1).default(1000),
  inference: z.number().int().min(1).default(100),
  models: z.number().int().min(1).default(50),
  batch: z.number().int().min(1).default(10),
  /** The codeflash client's /ai/* calls: ~20 per optimized function, several at once. */
  optimization: z.number().int().min(1).default(600),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(8000),
      /** Largest accepted request body; larger ones get 413 PAYLOAD_TOO_LARGE. */
      body_limit_bytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 ** 3)
        .default(10 * 1024 * 1024),
      /** How long SIGTERM waits for in-flight requests before closing their connections. */
      shutdown_timeout_ms: z.number().int().min(0).max(600_000).default(10_000),
      /** Trust X-Forwarded-For for the client address (only behind your own proxy). */
      trust_proxy: z.boolean().default(false),
    })
    .prefault({}),
  /** Where SQLite, model caches and other state live. */
  data_dir: z.string().min(1),
  /** PostgreSQL URL; SQLite in `data_dir` when unset. */
  database_url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  /** Redis URL for shared rate limits (and later caches/queues) across replicas. */
  redis_url: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  auth: z
    .strictObject({
      /**
       * Require credentials on /v1/ai and /ai. Defaults to true when JWT is configured.
       * Open mode (false) is only allowed while bound to a loopback address.
       */
      required: z.boolean().optional(),
      jwt: jwtSchema.optional(),
    })
    .prefault({}),
  rate_limits: rateLimitsSchema.prefault({}),
  /** Models served by this instance (plus those discovered at start-up). */
  models: z
    .array(modelEntrySchema)
    .default(DEFAULT_MODELS)
    .superRefine((models, ctx) => {
      const seen = new Set<string>();
      models.forEach((m, i) => {
        if (seen.has(m.id))
          ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate model id '${m.id}'` });
        seen.add(m.id);
      });
    }),
  engine: engineSchema.prefault({}),
  /** The optimization API (/ai/*): optimizer models, judge, variants. */
  optimization: optimizationConfigSchema.prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type JwtConfig = z.infer<typeof jwtSchema>;
export type RateLimitsConfig = z.infer<typeof rateLimitsSchema>;

/** Effective auth requirement: explicit setting, else required exactly when JWT is configured. */
export function authRequired(config: Config): boolean {
  return config.auth.required ?? config.auth.jwt !== undefined;
}
