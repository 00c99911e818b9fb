/** What the checker reports, and the two ways a response can end the client's work early. */

export interface ClientFile {
  path?: string;
  code: string;
}

export interface KeptCandidate {
  optimization_id: string;
  parent_id: string | null;
  explanation: string;
  model: string | null;
  files: ClientFile[];
}

export interface DroppedCandidate {
  optimization_id?: string;
  reason: string;
}

export interface ClientVerdict {
  /** What the client would do with the response. */
  outcome: "accepted" | "failed_call" | "run_aborted";
  /** Human-readable reasons for any abort, failed call, dropped candidate or protocol slip. */
  problems: string[];
  /** Candidates the client would keep (after §4 steps 1–3). */
  keptCandidates: KeptCandidate[];
  droppedCandidates: DroppedCandidate[];
}

/** The response would raise out of the client's worker and stop the whole CLI run. */
export class RunAborted extends Error {}

/** The client would treat the call as failed (logged, empty result) and go on. */
export class FailedCall extends Error {}

export function emptyVerdict(): ClientVerdict {
  return { outcome: "accepted", problems: [], keptCandidates: [], droppedCandidates: [] };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Python `int` as `json.loads` would produce it (JSON booleans are `bool`, not `int`). */
export function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

export function describe(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
