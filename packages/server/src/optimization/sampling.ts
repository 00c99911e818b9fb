/**
 * How one call's samples are planned: candidates spread over the weighted optimizer models, and
 * a different angle per sample so that n samples do not return n copies of one idea.
 */
import type { WeightedModel } from "./optimization-config.js";

/**
 * `n` model ids in proportion to their weights (largest remainder), interleaved so that every
 * model appears early: with weights 2:1 and n = 6 → a, b, a, a, b, a.
 */
export function spreadOverModels(n: number, models: readonly WeightedModel[]): string[] {
  if (n <= 0 || models.length === 0) return [];
  const total = models.reduce((sum, m) => sum + m.weight, 0);
  const exact = models.map((m) => (n * m.weight) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, index) => ({ index, rest: value - Math.floor(value) }));
  byRemainder.sort((a, b) => b.rest - a.rest || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left === 0) break;
    counts[index] = (counts[index] ?? 0) + 1;
    left -= 1;
  }
  // Interleave: repeatedly take the model furthest behind its share.
  const taken = models.map(() => 0);
  const order: string[] = [];
  for (let slot = 0; slot < n; slot += 1) {
    let best = -1;
    let bestLag = -Infinity;
    models.forEach((_, index) => {
      const count = counts[index] ?? 0;
      if ((taken[index] ?? 0) >= count) return;
      const lag = ((slot + 1) * count) / n - (taken[index] ?? 0);
      if (lag > bestLag) {
        bestLag = lag;
        best = index;
      }
    });
    taken[best] = (taken[best] ?? 0) + 1;
    order.push(models[best]?.model as string);
  }
  return order;
}

/** One angle per sample; the first asks for the most reliable improvement. */
export const SAMPLE_ANGLES = [
  "Aim for the single most reliable, clearly correct improvement.",
  "Look first at algorithmic complexity: a better algorithm or data structure for the hot path.",
  "Look first at constant factors in the hot loop: repeated work, attribute lookups, allocations and copies.",
  "Prefer built-in or standard-library routines that do the work natively instead of interpreted loops.",
  "Look for work that can be hoisted, cached or precomputed once instead of repeated per element.",
  "Look for early exits and short-circuits that skip work the result does not need.",
  "Reduce intermediate collections and conversions; stream through the data once.",
  "Combine the ideas above where they compound, keeping the code readable.",
] as const;

export function sampleAngle(index: number): string {
  return SAMPLE_ANGLES[index % SAMPLE_ANGLES.length] as string;
}

/** The first sample runs cooler so at least one answer stays close to the safest rewrite. */
export function sampleTemperature(index: number, configured: number): number {
  return index === 0 ? Math.min(configured, 0.3) : configured;
}
