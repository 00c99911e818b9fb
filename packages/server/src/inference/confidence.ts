import type { TokenProbability } from "../engine/providers/provider.js";

/**
 * The geometric mean of the generated tokens' probabilities, exp(mean logprob); `null` when
 * the runtime did not report them — never an invented constant.
 */
export function confidenceFromTokens(tokens: readonly TokenProbability[] | undefined): number | null {
  if (tokens === undefined || tokens.length === 0) return null;
  let sum = 0;
  for (const t of tokens) sum += t.logprob;
  const value = Math.exp(sum / tokens.length);
  return Math.round(value * 10_000) / 10_000;
}
