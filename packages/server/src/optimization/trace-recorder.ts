/**
 * Everything one /ai/* call did, kept under its trace_id: the request, each prompt and raw model
 * output with its timing, the candidates handed out, and every dropped candidate with its
 * reason. Written once, when the call ends (success or failure), in one transaction.
 */
import { randomUUID } from "node:crypto";
import type {
  OptimizationCandidateRecord,
  OptimizationRepository,
} from "../store/optimization-repository.js";

export interface ModelCallTrace {
  model: string;
  /** Which sample of the call this was (candidate index, retry…). */
  label: string;
  prompt: { template: string; version: number; system: string; user: string };
  output: string | null;
  error: string | null;
  duration_ms: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** True when the output came from a stored trace (`rerun_trace_id`), not a model. */
  replayed: boolean;
}

export interface DropTrace {
  model: string;
  label: string;
  reason: string;
  detail: string;
}

export interface CandidateTrace {
  optimization_id: string;
  parent_id: string | null;
  model: string;
  source_code: string;
  explanation: string;
}

export interface CallRecord {
  prompt_version: number;
  replayed_from: string | null;
  model_calls: ModelCallTrace[];
  candidates: CandidateTrace[];
  drops: DropTrace[];
  notes: string[];
}

export interface TraceIdentity {
  traceId: string;
  endpoint: string;
  principalId: string;
  experimentId: string | null;
  variant: string | null;
}

export class TraceRecorder {
  readonly callId = randomUUID();
  readonly record: CallRecord;
  private readonly started = performance.now();
  private readonly createdAt = new Date().toISOString();

  constructor(
    private readonly repository: OptimizationRepository,
    readonly identity: TraceIdentity,
    private readonly request: unknown,
    promptVersion: number,
    replayedFrom: string | null,
  ) {
    this.record = {
      prompt_version: promptVersion,
      replayed_from: replayedFrom,
      model_calls: [],
      candidates: [],
      drops: [],
      notes: [],
    };
  }

  modelCall(call: ModelCallTrace): void {
    this.record.model_calls.push(call);
  }

  drop(drop: DropTrace): void {
    this.record.drops.push(drop);
  }

  note(text: string): void {
    this.record.notes.push(text);
  }

  candidate(candidate: CandidateTrace): void {
    this.record.candidates.push(candidate);
  }

  async finish(outcome: { response: unknown } | { error: string }): Promise<void> {
    const { traceId, endpoint, experimentId, variant } = this.identity;
    const candidates: OptimizationCandidateRecord[] = this.record.candidates.map((c) => ({
      optimizationId: c.optimization_id,
      callId: this.callId,
      traceId,
      endpoint,
      model: c.model,
      experimentId,
      variant,
      parentId: c.parent_id,
      createdAt: this.createdAt,
    }));
    await this.repository.insertCall(
      {
        id: this.callId,
        ...this.identity,
        status: "response" in outcome ? "ok" : "failed",
        request: this.request,
        record: this.record,
        response: "response" in outcome ? outcome.response : null,
        error: "error" in outcome ? outcome.error : null,
        createdAt: this.createdAt,
        durationMs: performance.now() - this.started,
      },
      candidates,
    );
  }
}
