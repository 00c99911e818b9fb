import { type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  checkSyntax,
  codeTokens,
  extractCodeBlocks,
  LANGUAGES,
  type Language,
  languageOf,
  refactorSafetyChecks,
  type SafetyCheck,
} from "../../code/index.js";
import { ApiError, invalidRequest } from "../../errors.js";
import type { AppEnv } from "../../http/context.js";
import { protectedRoute } from "../../http/protected-route.js";
import type { AppServices } from "../../http/services.js";
import { confidenceFromTokens } from "../confidence.js";
import { inferenceParametersSchema, samplingFrom } from "../common-schemas.js";
import { renderPrompt } from "../prompts/prompt-template.js";
import { REFACTOR_INSTRUCTIONS, REFACTOR_PROMPT_V1 } from "../prompts/refactor.v1.js";
import { renamedTo, selectedIdentifier } from "./rename-target.js";

const OPERATIONS = ["extract_variable", "extract_method", "rename", "optimize_performance"] as const;

/** A name `rename` may introduce: letters of any script, digits, `_` and `$`, not leading digits. */
const IDENTIFIER_NAME = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;

const refactorRequestSchema = z
  .object({
    model_id: z.string().min(1).max(128),
    code: z.string().min(1).max(400_000),
    operation: z.enum(OPERATIONS),
    context: z.object({
      language: z.string().min(1).max(32),
      file_path: z.string().max(1024).optional(),
      selection_start: z.number().int().min(0).optional(),
      selection_end: z.number().int().min(0).optional(),
      /** For `rename`: the name to use; the model chooses one when absent. */
      new_name: z
        .string()
        .regex(IDENTIFIER_NAME)
        .max(128)
        // zod-to-openapi writes a flagged regex with its flags ("…$/u"), which no client can
        // match; JSON Schema reads patterns as Unicode regexes anyway, so the source is enough.
        .openapi({ pattern: IDENTIFIER_NAME.source })
        .optional(),
    }),
    safety_checks: z.boolean().default(true),
    parameters: inferenceParametersSchema.optional(),
  })
  .openapi("RefactorRequest");

const checkSchema = z.object({ name: z.string(), passed: z.boolean(), detail: z.string() });
const refactoringSchema = z.object({
  type: z.enum(OPERATIONS),
  original_code: z.string(),
  refactored_code: z.string(),
  confidence: z.number().nullable(),
  safety_score: z.number(),
  explanation: z.string(),
  safety: z.object({ checks: z.array(checkSchema) }),
});
const alternativeSchema = z.object({
  type: z.enum(OPERATIONS),
  code: z.string(),
  confidence: z.number().nullable(),
  safety_score: z.number(),
  explanation: z.string(),
  safety: z.object({ checks: z.array(checkSchema) }),
});
const refactorResponseSchema = z
  .object({ refactoring: refactoringSchema, alternatives: z.array(alternativeSchema) })
  .openapi("RefactorResponse");

interface Candidate {
  code: string;
  explanation: string;
  confidence: number | null;
  checks: SafetyCheck[];
  score: number;
  parses: boolean;
}

function resolveLanguage(tag: string): Language {
  const language = languageOf(tag);
  if (language === undefined) {
    throw invalidRequest(`unsupported language '${tag}'`, [
      { path: "context.language", message: `one of ${LANGUAGES.join(", ")}` },
    ]);
  }
  return language;
}

function resolveSelection(code: string, start: number | undefined, end: number | undefined) {
  if (start === undefined && end === undefined) return undefined;
  const from = start ?? 0;
  const to = end ?? code.length;
  if (from >= to || to > code.length) {
    throw invalidRequest("the selection must satisfy 0 <= selection_start < selection_end <= code length", [
      { path: "context.selection_end", message: `selection ${from}..${to} is outside 0..${code.length}` },
    ]);
  }
  return { start: from, end: to };
}

/** `POST /v1/ai/inference/refactor`: a refactoring whose result is checked with a real parser. */
export function registerRefactorRoute(app: OpenAPIHono<AppEnv>, services: AppServices): void {
  app.openapi(
    protectedRoute(
      services,
      { scope: "inference", rateLimit: "inference" },
      {
        method: "post",
        path: "/v1/ai/inference/refactor",
        tags: ["inference"],
        summary: "Refactor code, with parser-verified safety checks",
        request: {
          body: { required: true, content: { "application/json": { schema: refactorRequestSchema } } },
        },
        responses: {
          200: {
            description: "The refactoring",
            content: { "application/json": { schema: refactorResponseSchema } },
          },
        },
      },
    ),
    async (c) => {
      const body = c.req.valid("json");
      const language = resolveLanguage(body.context.language);
      const selection = resolveSelection(body.code, body.context.selection_start, body.context.selection_end);
      const from =
        body.operation === "rename"
          ? await selectedIdentifier(body.code, language, selection?.start ?? -1, selection?.end ?? -1)
          : undefined;
      const originalTokens = from === undefined ? [] : await codeTokens(body.code, language);

      const prompt = renderPrompt(REFACTOR_PROMPT_V1, {
        language,
        operation: body.operation,
        instruction:
          (REFACTOR_INSTRUCTIONS[body.operation] ?? "") +
          (from === undefined ? "" : ` The identifier is \`${from}\`.`) +
          (body.context.new_name === undefined ? "" : ` Its new name is \`${body.context.new_name}\`.`),
        selection_section:
          selection === undefined
            ? ""
            : `Selected code:\n\`\`\`${language}\n${body.code.slice(selection.start, selection.end)}\n\`\`\``,
        file_path: body.context.file_path ?? "unnamed",
        code: body.code,
      });
      const samples = body.parameters?.n ?? 1;
      const sampling = samplingFrom(body.parameters, { maxTokens: Math.min(8192, 256 + body.code.length) });
      const results = await Promise.all(
        Array.from({ length: samples }, (_, i) =>
          services.runner.generate(body.model_id, {
            input: {
              kind: "chat",
              messages: [
                { role: "system", content: prompt.system },
                { role: "user", content: prompt.user },
              ],
            },
            // Extra samples need variety; the first keeps the caller's (or the default) sampling.
            sampling: i === 0 ? sampling : { ...sampling, temperature: sampling.temperature ?? 0.7, seed: i },
            logprobs: true,
            signal: c.req.raw.signal,
          }),
        ),
      );

      const candidates: Candidate[] = [];
      for (const result of results) {
        const { blocks, prose } = extractCodeBlocks(result.text, { defaultLanguage: language });
        const block = blocks.find((b) => b.language === language) ?? blocks[0];
        const code = block?.code ?? result.text.trim();
        const explanation = prose.trim();
        let checks: SafetyCheck[];
        if (body.safety_checks) {
          const to =
            from === undefined
              ? undefined
              : (body.context.new_name ?? (await renamedTo(originalTokens, code, language, from)));
          const safety = await refactorSafetyChecks({
            original: body.code,
            refactored: code,
            language,
            operation: body.operation,
            ...(selection === undefined ? {} : { selection }),
            ...(from === undefined ? {} : { rename: { from, to: to ?? "" } }),
          });
          checks = safety.checks;
        } else {
          const syntax = await checkSyntax(code, language);
          checks = [
            {
              name: "parses",
              passed: syntax.ok,
              detail: syntax.ok ? syntax.parser : (syntax.errors[0]?.message ?? "syntax error"),
            },
          ];
        }
        const passed = checks.filter((check) => check.passed).length;
        candidates.push({
          code,
          explanation,
          confidence: confidenceFromTokens(result.tokens),
          checks,
          score: checks.length === 0 ? 0 : Math.round((passed / checks.length) * 1000) / 1000,
          parses: checks.find((check) => check.name === "parses")?.passed ?? false,
        });
      }
      // Parsable first, then the safest, then the most confident.
      candidates.sort(
        (a, b) =>
          Number(b.parses) - Number(a.parses) ||
          b.score - a.score ||
          (b.confidence ?? 0) - (a.confidence ?? 0),
      );
      const [main, ...rest] = candidates;
      if (main === undefined || !main.parses) {
        throw new ApiError("UPSTREAM_ERROR", `the model's refactoring does not parse as ${language}`, {
          details: {
            model_id: body.model_id,
            candidates: candidates.map((cand) => ({ safety_score: cand.score, checks: cand.checks })),
          },
        });
      }
      return c.json(
        {
          refactoring: {
            type: body.operation,
            original_code: body.code,
            refactored_code: main.code,
            confidence: main.confidence,
            safety_score: main.score,
            explanation: main.explanation,
            safety: { checks: main.checks },
          },
          alternatives: rest.map((cand) => ({
            type: body.operation,
            code: cand.code,
            confidence: cand.confidence,
            safety_score: cand.score,
            explanation: cand.explanation,
            safety: { checks: cand.checks },
          })),
        },
        200,
      );
    },
  );
}
