import type { DecisionValue } from "../schemas/common.js";
import type { Decision, Tier } from "../schemas/decision.js";
import type { RequestShape } from "../schemas/request.js";

export type Mode = "shadow" | "advisory" | "enforce";

export type ReviewCategory = "agree" | "too_strict" | "too_permissive" | "unclear";

export interface Review {
  reviewer: string;
  finalDecision: DecisionValue;
  category: ReviewCategory;
  notes?: string;
  reviewedAt: string;
}

/** One logged decision: what was asked, what was answered, under which versions and mode. */
export interface DecisionRecord {
  decisionId: string;
  createdAt: string;
  /** The request as received (after masking), in its own shape. */
  input: unknown;
  shape: RequestShape;
  decision: Decision;
  mode: Mode;
  tier: Tier;
  /** The caller's current engine's decision, when sent (shadow mode). */
  control?: DecisionValue;
  /** The decision the caller applies. */
  effectiveDecision: DecisionValue;
  review?: Review;
}

export interface DecisionQuery {
  since?: string;
  until?: string;
  tier?: Tier;
  mode?: Mode;
  decision?: DecisionValue;
  actor?: string;
  action?: string;
  mismatchesOnly?: boolean;
  reviewed?: boolean;
  limit?: number;
  offset?: number;
}

/**
 * The decision log. append() resolves only once the record is durably committed: a caller may
 * acknowledge a decision only after that. Implementations group-commit concurrent appends.
 */
export interface DecisionStore {
  readonly kind: "sqlite" | "postgres";
  append(record: DecisionRecord): Promise<void>;
  get(decisionId: string): Promise<DecisionRecord | undefined>;
  query(q: DecisionQuery): Promise<DecisionRecord[]>;
  review(decisionId: string, review: Review): Promise<DecisionRecord | undefined>;
  /** A cheap write/read probe for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
