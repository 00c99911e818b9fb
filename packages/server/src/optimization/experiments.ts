/**
 * `/ai/log_features` results and the A/B report built from them: per variant (the client's
 * `experiment_metadata.group`) and per model, how many functions were won, how often candidates
 * were correct, and the mean speedup — the report the client's experiment mode exists for.
 */
import { randomUUID } from "node:crypto";
import { z } from "@hono/zod-openapi";
import type { OptimizationRepository, OptimizationResultRecord } from "../store/optimization-repository.js";
import type { LogFeaturesRequest } from "./schemas.js";

/** The experiment arm suffix the client puts on trace ids (§1): both arms share the base. */
const ARM_SUFFIX = /EXP[01]$/;

export async function storeFeatures(
  repository: OptimizationRepository,
  body: LogFeaturesRequest,
): Promise<void> {
  const experiment = await repository.experimentOfTrace(body.trace_id);
  await repository.insertResult({
    id: randomUUID(),
    traceId: body.trace_id,
    experimentId: experiment?.experimentId ?? null,
    variant: experiment?.variant ?? null,
    bestOptimizationId: body.metadata?.best_optimization_id ?? null,
    payload: body,
    createdAt: new Date().toISOString(),
  });
}

const variantStatsSchema = z.object({
  variant: z.string(),
  functions: z.number().int().openapi({ description: "log_features reports (functions with a winner)" }),
  wins: z
    .number()
    .int()
    .openapi({ description: "functions where this arm's best speedup beat the other arms'" }),
  mean_best_speedup: z.number().nullable().openapi({ description: "mean gain fraction of the winners" }),
  candidates_evaluated: z.number().int(),
  correct_rate: z.number().nullable(),
});

const modelStatsSchema = z.object({
  model: z.string(),
  variant: z.string(),
  candidates_evaluated: z.number().int(),
  correct: z.number().int(),
  correct_rate: z.number().nullable(),
  mean_speedup: z
    .number()
    .nullable()
    .openapi({ description: "mean gain fraction of its correct candidates" }),
  wins: z.number().int().openapi({ description: "times its candidate was the function's best" }),
});

export const experimentReportSchema = z
  .object({
    experiment_id: z.string(),
    reports: z.number().int(),
    variants: z.array(variantStatsSchema),
    models: z.array(modelStatsSchema),
  })
  .openapi("ExperimentReport");
export type ExperimentReport = z.infer<typeof experimentReportSchema>;

const payloadSchema = z.object({
  speedup_ratio: z.record(z.string(), z.number().nullable()).nullish(),
  is_correct: z.record(z.string(), z.boolean().nullable()).nullish(),
});

const mean = (values: readonly number[]) =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;

interface Tally {
  evaluated: number;
  correct: number;
  speedups: number[];
  wins: number;
}

const tally = (): Tally => ({ evaluated: 0, correct: 0, speedups: [], wins: 0 });

export async function experimentReport(
  repository: OptimizationRepository,
  experimentId: string,
): Promise<ExperimentReport | undefined> {
  const results = await repository.resultsOfExperiment(experimentId);
  if (results.length === 0) return undefined;
  const candidates = await repository.candidatesOfTraces([...new Set(results.map((r) => r.traceId))]);
  const modelOf = new Map(candidates.map((c) => [c.optimizationId, c.model]));

  const variants = new Map<string, Tally & { functions: number; best: number[] }>();
  const models = new Map<string, Tally & { model: string; variant: string }>();
  const bestByBase = new Map<string, { variant: string; speedup: number }[]>();

  for (const result of results) {
    const variant = result.variant ?? "default";
    const payload = payloadSchema.safeParse(result.payload);
    if (!payload.success) continue;
    const speedups = payload.data.speedup_ratio ?? {};
    const correct = payload.data.is_correct ?? {};
    const v = variants.get(variant) ?? { ...tally(), functions: 0, best: [] };
    variants.set(variant, v);
    v.functions += 1;
    for (const [id, isCorrect] of Object.entries(correct)) {
      if (isCorrect === null) continue;
      const model = modelOf.get(id) ?? "unknown";
      const key = `${variant}\u0000${model}`;
      const m = models.get(key) ?? { ...tally(), model, variant };
      models.set(key, m);
      for (const t of [v, m]) {
        t.evaluated += 1;
        if (isCorrect) t.correct += 1;
      }
      const speedup = speedups[id];
      if (isCorrect && typeof speedup === "number") m.speedups.push(speedup);
    }
    const best = bestSpeedup(result, speedups);
    if (best !== undefined) {
      v.best.push(best);
      const base = result.traceId.replace(ARM_SUFFIX, "");
      bestByBase.set(base, [...(bestByBase.get(base) ?? []), { variant, speedup: best }]);
      const winner = modelOf.get(result.bestOptimizationId ?? "");
      const m = models.get(`${variant}\u0000${winner ?? "unknown"}`);
      if (m !== undefined) m.wins += 1;
    }
  }
  // A function is won by the arm with the strictly best winner among the arms that reported it.
  for (const arms of bestByBase.values()) {
    if (arms.length < 2) continue;
    const top = Math.max(...arms.map((a) => a.speedup));
    const leaders = arms.filter((a) => a.speedup === top);
    const winner = leaders.length === 1 ? variants.get(leaders[0]?.variant ?? "") : undefined;
    if (winner !== undefined) winner.wins += 1;
  }
  return {
    experiment_id: experimentId,
    reports: results.length,
    variants: [...variants.entries()].map(([variant, v]) => ({
      variant,
      functions: v.functions,
      wins: v.wins,
      mean_best_speedup: mean(v.best),
      candidates_evaluated: v.evaluated,
      correct_rate: v.evaluated === 0 ? null : v.correct / v.evaluated,
    })),
    models: [...models.values()].map((m) => ({
      model: m.model,
      variant: m.variant,
      candidates_evaluated: m.evaluated,
      correct: m.correct,
      correct_rate: m.evaluated === 0 ? null : m.correct / m.evaluated,
      mean_speedup: mean(m.speedups),
      wins: m.wins,
    })),
  };
}

function bestSpeedup(
  result: OptimizationResultRecord,
  speedups: Record<string, number | null>,
): number | undefined {
  const id = result.bestOptimizationId;
  const value = id === null ? undefined : speedups[id];
  return typeof value === "number" ? value : undefined;
}
