/**
 * CPU time of a process, to tell which side saturates a core: on a 2-core machine the load
 * generator and the server each get one, and a baseline that cannot saturate its core means the
 * load generator, not the server, set its pace.
 */
import { readFileSync } from "node:fs";

// USER_HZ: 100 on every Linux architecture Node supports.
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds of `pid` from /proc (undefined where there is none). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesized command name (which may contain spaces): state is the
    // first, utime the 12th and stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process (the load generator). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * How often this process's main thread (where the load generator runs) has gone to sleep
 * waiting for something: `voluntary_ctxt_switches` from /proc (undefined where there is none).
 * Per request, it tells whether the server kept the load generator busy (near 0) or woke it for
 * every answer (near 1): each such wake-up is paid inside the server's socket write.
 */
export function ownSleeps(): number | undefined {
  try {
    const match = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface MachineTicks {
  steal: number;
  total: number;
}

/** The machine's CPU ticks from /proc/stat (undefined where there is none). */
export function machineTicks(): MachineTicks | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (ticks.length < 8 || ticks.some((t) => !Number.isFinite(t))) return undefined;
    return { steal: ticks[7]!, total: ticks.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/**
 * The share of this VM's CPU time the hypervisor gave to others between two readings. A few
 * percent is normal on shared hosts; well above that, every timing of the run is suspect.
 */
export function stealShare(
  start: MachineTicks | undefined,
  end: MachineTicks | undefined,
): number | undefined {
  if (start === undefined || end === undefined || end.total <= start.total) return undefined;
  return (end.steal - start.steal) / (end.total - start.total);
}
