import type { DecisionValue } from "../schemas/common.js";
import type { Decision, Tier } from "../schemas/decision.js";
import type { RequestShape } from "../schemas/request.js";
import type { SqliteSync } from "./sqlite-writer-protocol.js";

export type { Mode } from "../schemas/common.js";

import type { Mode } from "../schemas/common.js";

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

/**
 * What the measures need of a logged decision, read from columns without parsing the stored request and
 * decision JSON: the service computes status and rollback checks over many of these. A DecisionRecord is one.
 */
export interface DecisionFacts {
  decisionId: string;
  createdAt: string;
  tier: Tier;
  mode: Mode;
  control?: DecisionValue;
  decision: Pick<Decision, "decision" | "riskLevel" | "source" | "latencyMs" | "versions">;
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
  /** Only records whose control differs from the decision. */
  mismatchesOnly?: boolean;
  reviewed?: boolean;
  /** Free-text search over the stored input and decision JSON (case-insensitive substring). */
  q?: string;
  /** Order by creation time; newest first unless "asc". */
  order?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

/** A rollout state change, persisted so every sidecar sharing the log sees the same modes. */
export interface RolloutEvent {
  id?: number;
  at: string;
  tier: Tier;
  /** config: the rollout file set the mode; promote: a human moved it up; rollback: a human or the monitor moved it down. */
  kind: "config" | "promote" | "rollback";
  from: Mode | null;
  to: Mode;
  by: string;
  reason: string;
  /** Automatic rollbacks: which check fired. */
  trigger?: string;
}

/** A prompt/model configuration the service can run: named, so that comparisons and rollbacks refer to it. */
export interface VersionSpec {
  name: string;
  /** Prompt variant id (or file). */
  prompt?: string | null;
  /** GGUF path, or the model name at an OpenAI-compatible server. */
  model?: string | null;
}

/** A change of the live prompt/model version: promotion of a candidate, or rollback to the previous one. */
export interface VersionEvent {
  id?: number;
  at: string;
  kind: "promote" | "rollback";
  from: VersionSpec | null;
  to: VersionSpec;
  by: string;
  reason: string;
}

/** A candidate version's decision on a request the current version answered (A/B in shadow). */
export interface CandidateDecision {
  decisionId: string;
  /** Name of the candidate, e.g. "prompt=compact@sha256:... model=qwen". */
  candidate: string;
  createdAt: string;
  decision: Decision;
}

/**
 * The decision log. append() resolves only once the record is durably committed: a caller may
 * acknowledge a decision only after that. Implementations group-commit concurrent appends.
 */
export interface DecisionStore {
  readonly kind: "sqlite" | "postgres";
  /** Group-commit counters: transactions written, records in them, the largest batch. */
  readonly commitStats: { batches: number; items: number; largestBatch: number };
  /** Where the log lives (file path, or the PostgreSQL URL without password). */
  readonly location: string;
  append(record: DecisionRecord): Promise<void>;
  get(decisionId: string): Promise<DecisionRecord | undefined>;
  query(q: DecisionQuery): Promise<DecisionRecord[]>;
  /** Like query, but only the facts the measures need (cheap for large windows). */
  facts(q: DecisionQuery): Promise<DecisionFacts[]>;
  /** How many records match (limit and offset ignored). */
  count(q: DecisionQuery): Promise<number>;
  review(decisionId: string, review: Review): Promise<DecisionRecord | undefined>;
  appendRolloutEvent(event: RolloutEvent): Promise<RolloutEvent>;
  /**
   * Compare-and-set: appends only if the tier's latest event id is still `expectedLatestId` (null: the
   * tier has none), atomically; else appends nothing and returns undefined. Two sidecars deciding on the
   * same state cannot both act (e.g. roll the same tier back twice).
   */
  appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined>;
  /** Oldest first. */
  rolloutEvents(tier?: Tier): Promise<RolloutEvent[]>;
  appendVersionEvent(event: VersionEvent): Promise<VersionEvent>;
  /** Oldest first. */
  versionEvents(): Promise<VersionEvent[]>;
  /**
   * `request`: the request the candidate decided, whose masked values are scrubbed from the candidate's
   * decision as they are from a record's.
   */
  appendCandidate(c: CandidateDecision, request?: unknown): Promise<void>;
  candidates(q: { since?: string; until?: string; candidate?: string }): Promise<CandidateDecision[]>;
  /**
   * How big the log is and its limit. SQLite: the bytes of the database pages in use (freed pages are
   * reused, so pruning makes room). PostgreSQL: the bytes of the stored records' JSON plus a fixed
   * allowance per row, counted as records are written and pruned.
   */
  size(): Promise<LogSize>;
  /**
   * Deletes the decisions (and candidate decisions) created before `before` (ISO date-time), in chunks
   * so that the service keeps answering; the only way records ever leave the log.
   */
  prune(before: string): Promise<PruneResult>;
  /** A cheap write/read probe for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LogSize {
  bytes: number;
  /** The --max-log-size in bytes; null when there is none. */
  limit: number | null;
}

export interface PruneResult {
  decisions: number;
  candidates: number;
}

export interface StoreOptions {
  /**
   * Largest log in bytes (see DecisionStore.size). A decision or candidate that would take the log past
   * it is refused with LogFullError; nothing stored is dropped to make room. Default: no limit.
   */
  maxBytes?: number | null;
  /**
   * Input paths masked before storage, e.g. "details", "t3_tensor", "action.parameters.password", "*.token";
   * each also names the same field in the other request shape, and the masked values are scrubbed from
   * every string of the record (see Masker in mask.ts).
   */
  mask?: string[];
  /** SQLite: how long to wait for a lock held by another process before failing (ms). */
  busyTimeoutMs?: number;
  /**
   * SQLite: "normal" (default) or "full" durability of each commit; see SqliteSync in
   * sqlite-writer-protocol.ts. PostgreSQL ignores it (its durability is the server's synchronous_commit).
   */
  sync?: SqliteSync;
  /** Most records committed in one transaction. */
  maxBatch?: number;
  /**
   * SQLite: refuse to create a new file (commands that read an existing log: report, replay, export,
   * rollout), so a mistyped path is an error rather than an empty report.
   */
  mustExist?: boolean;
}
