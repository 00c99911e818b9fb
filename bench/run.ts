/**
 * `npm run bench`: runs every module in bench/benchmarks/ (or those whose name contains one of
 * the arguments), prints each one's side-by-side numbers and its ratio against its target, then
 * a summary. A missed target is printed as MISSED but does not fail the run (shared machines are
 * noisy); only a crash, a broken module or a timeout exits non-zero.
 */
import { readdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Benchmark, BenchResult } from "./lib/benchmark.js";
import { envInt } from "./lib/benchmark.js";
import { machineTicks, stealShare } from "./lib/cpu.js";

const BENCHMARKS_DIR = join(import.meta.dirname, "benchmarks");

type Outcome =
  | { name: string; target: Benchmark["target"]; result: BenchResult; seconds: number }
  | { name: string; error: unknown; seconds: number };

function isBenchmark(value: Record<string, unknown>): value is Record<string, unknown> & Benchmark {
  const target = value.target as Record<string, unknown> | undefined;
  return (
    typeof value.name === "string" &&
    typeof value.run === "function" &&
    typeof target === "object" &&
    target !== null &&
    typeof target.minRatio === "number" &&
    typeof target.description === "string"
  );
}

async function loadBenchmarks(filters: string[]): Promise<Benchmark[]> {
  const files = readdirSync(BENCHMARKS_DIR)
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
    .sort();
  const loaded: Benchmark[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(BENCHMARKS_DIR, file)).href)) as Record<string, unknown>;
    if (!isBenchmark(module)) {
      throw new Error(
        `bench/benchmarks/${file} must export name, description, target { minRatio, description } and run()`,
      );
    }
    if (filters.length === 0 || filters.some((f) => module.name.includes(f))) loaded.push(module);
  }
  return loaded;
}

function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Left-aligns the first column, right-aligns the others. */
function table(rows: string[][], indent = "  "): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
          .join("   ")
          .trimEnd(),
    )
    .join("\n");
}

const verdict = (ratio: number, minRatio: number) => (ratio >= minRatio ? "met" : "MISSED");

/** How long it took, and how much CPU the host stole meanwhile (the run's reliability). */
function runLine(seconds: number, steal: number | undefined): string {
  if (steal === undefined) return `  (${seconds.toFixed(1)} s)`;
  const percent = `${(steal * 100).toFixed(1)}%`;
  return steal > 0.05
    ? `  (${seconds.toFixed(1)} s; CPU steal ${percent}: the host was busy, run again before trusting these numbers)`
    : `  (${seconds.toFixed(1)} s; CPU steal ${percent})`;
}

function printResult(
  bench: Benchmark,
  result: BenchResult,
  seconds: number,
  steal: number | undefined,
): void {
  const [subject, baseline] = result.sides;
  const detailKeys = Object.keys(subject.details);
  const header = ["", `${subject.unit} (median)`, ...detailKeys];
  const rows = result.sides.map((side) => [
    side.label,
    Math.round(side.value).toLocaleString("en-US"),
    ...detailKeys.map((key) => side.details[key] ?? ""),
  ]);
  console.log(table([header, ...rows]));
  const { minRatio } = bench.target;
  console.log(
    `  ratio ${result.ratio.toFixed(3)} (${result.ratioOf}); target ≥ ${minRatio} (${bench.target.description}): ` +
      `${verdict(result.ratio, minRatio)}, ${(result.ratio / minRatio).toFixed(2)}× the target` +
      (baseline.value === 0 ? " (baseline is zero!)" : ""),
  );
  for (const note of result.notes) console.log(`  · ${note}`);
  console.log(runLine(seconds, steal));
}

async function main(): Promise<number> {
  const timeoutSeconds = envInt("BENCH_TIMEOUT_SECONDS", 180);
  const benchmarks = await loadBenchmarks(process.argv.slice(2));
  if (benchmarks.length === 0) {
    console.error(`no benchmark matches ${process.argv.slice(2).join(", ")}`);
    return 1;
  }
  const cpu = cpus();
  console.log(
    `aiservice benchmarks: node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? "?"}), ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}\n`,
  );

  const outcomes: Outcome[] = [];
  for (const bench of benchmarks) {
    console.log(`${bench.name}: ${bench.description}`);
    const started = performance.now();
    const ticks = machineTicks();
    try {
      const result = await withTimeout(bench.run(), timeoutSeconds, bench.name);
      const seconds = (performance.now() - started) / 1000;
      printResult(bench, result, seconds, stealShare(ticks, machineTicks()));
      outcomes.push({ name: bench.name, target: bench.target, result, seconds });
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      console.log(`  CRASHED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      outcomes.push({ name: bench.name, error, seconds });
    }
    console.log();
  }

  console.log("summary");
  const rows = outcomes.map((o) =>
    "error" in o
      ? [o.name, "-", "-", "CRASHED"]
      : [
          o.name,
          o.result.ratio.toFixed(3),
          `≥ ${o.target.minRatio}`,
          verdict(o.result.ratio, o.target.minRatio),
        ],
  );
  console.log(table([["benchmark", "ratio", "target", "result"], ...rows]));
  return outcomes.some((o) => "error" in o) ? 1 : 0;
}

// Exit explicitly: a timed-out benchmark may still hold timers or sockets open. The exit hook of
// lib/child-server.ts then stops every server child that is left.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
