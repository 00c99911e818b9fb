/**
 * The contract between `bench/run.ts` and the modules in `bench/benchmarks/`. Every benchmark
 * measures a subject and a baseline side by side in one run (so drift on a shared machine hits
 * both) and reduces them to one ratio that is compared with its target.
 */

/** One measured side of a benchmark, e.g. "full stack" or "bare hono". */
export interface BenchSide {
  label: string;
  /** The compared number (a median over rounds), in `unit`. */
  value: number;
  unit: string;
  /** Extra columns printed next to `value`, in insertion order, e.g. latency percentiles. */
  details: Record<string, string>;
}

export interface BenchResult {
  /** Subject first, baseline second, then any other side measured in the same run. */
  sides: [subject: BenchSide, baseline: BenchSide, ...others: BenchSide[]];
  /** Higher is better; compared with `BenchTarget.minRatio`. */
  ratio: number;
  /** What the ratio divides, e.g. "full stack / bare req/s". */
  ratioOf: string;
  /** Lines printed under the table: parameters, sanity checks, caveats. */
  notes: string[];
}

export interface BenchTarget {
  /** The ratio a healthy build reaches; below it the runner prints MISSED. */
  minRatio: number;
  description: string;
}

/** The named exports of a module in `bench/benchmarks/`. */
export interface Benchmark {
  name: string;
  description: string;
  target: BenchTarget;
  run(): Promise<BenchResult>;
}

/** A positive integer from the environment, so a quick local run can shorten the rounds. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}
