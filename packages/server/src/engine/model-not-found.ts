import { distance } from "fastest-levenshtein";
import { ApiError } from "../errors.js";

/** The registered id closest to what was asked for, by edit distance (case-insensitive). */
export function nearestModelId(requested: string, available: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const id of available) {
    const d = distance(requested.toLowerCase(), id.toLowerCase());
    if (d < bestDistance) {
      best = id;
      bestDistance = d;
    }
  }
  return best;
}

/** 404 MODEL_NOT_FOUND with the seed's `available_models` and `suggestion` details. */
export function modelNotFound(requested: string, available: readonly string[]): ApiError {
  const suggestion = nearestModelId(requested, available);
  return new ApiError("MODEL_NOT_FOUND", `Requested model '${requested}' is not available`, {
    details: {
      available_models: [...available],
      ...(suggestion === undefined ? {} : { suggestion: `Use '${suggestion}' instead` }),
    },
  });
}
