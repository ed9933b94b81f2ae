import type { DecisionValue, Mode } from "../schemas/common.js";
import type { Decision, Tier } from "../schemas/decision.js";
import type { CandidateDecision, DecisionFacts, DecisionRecord, Review } from "../schemas/records.js";
import type { RequestShape } from "../schemas/request.js";
import type { RolloutEvent, VersionEvent, VersionSpec } from "../schemas/rollout.js";

/**
 * The mapping between a DecisionRecord and a table row, shared by both stores so that they store,
 * filter and return exactly the same thing. Filterable facts get their own columns; the request,
 * the decision and the review are kept whole as JSON text.
 */
export const DECISION_COLUMNS = [
  "decision_id",
  "created_at",
  "tier",
  "mode",
  "decision",
  "effective",
  "control",
  "mismatch",
  "actor",
  "action",
  "source",
  "risk",
  "latency_ms",
  "policy_version",
  "prompt_version",
  "model_version",
  "shape",
  "input",
  "output",
  "review",
  "reviewed_at",
  "final_decision",
] as const;

export type DecisionRow = {
  decision_id: string;
  created_at: string;
  tier: string;
  mode: string;
  decision: string;
  effective: string;
  control: string | null;
  mismatch: number;
  actor: string | null;
  action: string | null;
  source: string;
  risk: string;
  latency_ms: number;
  policy_version: string;
  prompt_version: string | null;
  model_version: string | null;
  shape: string;
  input: string;
  output: string;
  review: string | null;
  reviewed_at: string | null;
  final_decision: string | null;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Timestamps are stored as UTC ISO strings with milliseconds, so text order is time order. */
export function normalizeTime(s: string, what = "timestamp"): string {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new RangeError(`${what}: expected an ISO 8601 date-time, got "${s}"`);
  return new Date(t).toISOString();
}

/** Actor and action type from either request shape (situation or R6Request). */
export function actorAndAction(input: unknown): { actor: string | null; action: string | null } {
  if (!isObject(input)) return { actor: null, action: null };
  const actor =
    typeof input.actor_id === "string"
      ? input.actor_id
      : typeof input.actorId === "string"
        ? input.actorId
        : null;
  let action: string | null = null;
  if (typeof input.action_type === "string") action = input.action_type;
  else if (isObject(input.action) && typeof input.action.type === "string") action = input.action.type;
  return { actor, action };
}

export function toRow(r: DecisionRecord): DecisionRow {
  const { actor, action } = actorAndAction(r.input);
  return {
    decision_id: r.decisionId,
    created_at: normalizeTime(r.createdAt, "createdAt"),
    tier: r.tier,
    mode: r.mode,
    decision: r.decision.decision,
    effective: r.effectiveDecision,
    control: r.control ?? null,
    mismatch: r.control !== undefined && r.control !== r.decision.decision ? 1 : 0,
    actor,
    action,
    source: r.decision.source,
    risk: r.decision.riskLevel,
    latency_ms: r.decision.latencyMs,
    policy_version: r.decision.versions.policy,
    prompt_version: r.decision.versions.prompt,
    model_version: r.decision.versions.model,
    shape: r.shape,
    input: JSON.stringify(r.input ?? null),
    output: JSON.stringify(r.decision),
    review: r.review ? JSON.stringify(r.review) : null,
    reviewed_at: r.review ? normalizeTime(r.review.reviewedAt, "reviewedAt") : null,
    final_decision: r.review?.finalDecision ?? null,
  };
}

export function rowValues(row: DecisionRow): Array<string | number | null> {
  return DECISION_COLUMNS.map((c) => row[c]);
}

export function fromRow(row: DecisionRow): DecisionRecord {
  const rec: DecisionRecord = {
    decisionId: row.decision_id,
    createdAt: row.created_at,
    input: JSON.parse(row.input) as unknown,
    shape: row.shape as RequestShape,
    decision: JSON.parse(row.output) as Decision,
    mode: row.mode as Mode,
    tier: row.tier as Tier,
    effectiveDecision: row.effective as DecisionValue,
  };
  if (row.control !== null) rec.control = row.control as DecisionValue;
  if (row.review !== null) rec.review = JSON.parse(row.review) as Review;
  return rec;
}

/** The columns facts() reads: no request or decision JSON. */
export const FACT_COLUMNS =
  "decision_id, created_at, tier, mode, decision, control, source, risk, latency_ms, policy_version, prompt_version, model_version, review";

export type FactRow = Pick<
  DecisionRow,
  | "decision_id"
  | "created_at"
  | "tier"
  | "mode"
  | "decision"
  | "control"
  | "source"
  | "risk"
  | "latency_ms"
  | "policy_version"
  | "prompt_version"
  | "model_version"
  | "review"
>;

export function factsFromRow(row: FactRow): DecisionFacts {
  const f: DecisionFacts = {
    decisionId: row.decision_id,
    createdAt: row.created_at,
    tier: row.tier as Tier,
    mode: row.mode as Mode,
    decision: {
      decision: row.decision as DecisionValue,
      riskLevel: row.risk as Decision["riskLevel"],
      source: row.source as Decision["source"],
      latencyMs: Number(row.latency_ms),
      versions: { policy: row.policy_version, prompt: row.prompt_version, model: row.model_version },
    },
  };
  if (row.control !== null) f.control = row.control as DecisionValue;
  if (row.review !== null) f.review = JSON.parse(row.review) as Review;
  return f;
}

export type RolloutEventRow = {
  id: number | string;
  at: string;
  tier: string;
  kind: string;
  from_mode: string | null;
  to_mode: string;
  by_whom: string;
  reason: string;
  trigger_name: string | null;
};

export function eventFromRow(r: RolloutEventRow): RolloutEvent {
  const e: RolloutEvent = {
    id: Number(r.id),
    at: r.at,
    tier: r.tier as Tier,
    kind: r.kind as RolloutEvent["kind"],
    from: (r.from_mode as Mode | null) ?? null,
    to: r.to_mode as Mode,
    by: r.by_whom,
    reason: r.reason,
  };
  if (r.trigger_name) e.trigger = r.trigger_name;
  return e;
}

export type VersionEventRow = {
  id: number | string;
  at: string;
  kind: string;
  from_version: string | null;
  to_version: string;
  by_whom: string;
  reason: string;
};

export function versionEventFromRow(r: VersionEventRow): VersionEvent {
  return {
    id: Number(r.id),
    at: r.at,
    kind: r.kind as VersionEvent["kind"],
    from: r.from_version ? (JSON.parse(r.from_version) as VersionSpec) : null,
    to: JSON.parse(r.to_version) as VersionSpec,
    by: r.by_whom,
    reason: r.reason,
  };
}

export type CandidateRow = { decision_id: string; candidate: string; created_at: string; output: string };

export function candidateFromRow(r: CandidateRow): CandidateDecision {
  return {
    decisionId: r.decision_id,
    candidate: r.candidate,
    createdAt: r.created_at,
    decision: JSON.parse(r.output) as CandidateDecision["decision"],
  };
}

/**
 * What one stored record counts for against the size limit before it is written: its JSON plus an
 * allowance for the other columns and the index entries. PostgreSQL counts the same with SQL (DECISION_BYTES_SQL).
 */
export const ROW_OVERHEAD_BYTES = 256;
export const CANDIDATE_OVERHEAD_BYTES = 128;

export function rowBytes(row: Pick<DecisionRow, "input" | "output">): number {
  return Buffer.byteLength(row.input) + Buffer.byteLength(row.output) + ROW_OVERHEAD_BYTES;
}
