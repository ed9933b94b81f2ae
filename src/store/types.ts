import type { Tier } from "../schemas/decision.js";
import type {
  CandidateDecision,
  CandidateQuery,
  DecisionFacts,
  DecisionQuery,
  DecisionRecord,
  Review,
} from "../schemas/records.js";
import type { RolloutEvent, VersionEvent } from "../schemas/rollout.js";

/**
 * What the decision log keeps, split by concern: a consumer takes the interface it uses. One class per
 * dialect (sqlite.ts, postgres.ts) implements them all; openStore returns that as a DecisionStore.
 */

/** Group-commit counters: transactions written, records in them, the largest batch. */
export interface CommitStats {
  batches: number;
  items: number;
  largestBatch: number;
}

/**
 * The decision log. append() resolves only once the record is durably committed: a caller may
 * acknowledge a decision only after that. Implementations group-commit concurrent appends.
 */
export interface DecisionLog {
  readonly commitStats: CommitStats;
  /**
   * Idempotent by decision id: appending a decision id the log already holds is a no-op that resolves,
   * and the record first written is kept (a retried append after a crash writes nothing twice).
   */
  append(record: DecisionRecord): Promise<void>;
  get(decisionId: string): Promise<DecisionRecord | undefined>;
  query(q: DecisionQuery): Promise<DecisionRecord[]>;
  /** Like query, but only the facts the measures need (cheap for large windows). */
  facts(q: DecisionQuery): Promise<DecisionFacts[]>;
  /** How many records match (limit and offset ignored). */
  count(q: DecisionQuery): Promise<number>;
  review(decisionId: string, review: Review): Promise<DecisionRecord | undefined>;
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
}

/** The rollout's mode changes. */
export interface RolloutEventLog {
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
}

/** The live prompt/model version's promotions and rollbacks. */
export interface VersionEventLog {
  appendVersionEvent(event: VersionEvent): Promise<VersionEvent>;
  /** Oldest first. */
  versionEvents(): Promise<VersionEvent[]>;
}

/** A candidate version's decisions, beside the live version's (A/B in shadow). */
export interface CandidateLog {
  /**
   * `request`: the request the candidate decided, whose masked values are scrubbed from the candidate's
   * decision as they are from a record's. A second decision of the same candidate on the same request
   * replaces the first.
   */
  appendCandidate(c: CandidateDecision, request?: unknown): Promise<void>;
  /** Oldest first. */
  candidates(q: CandidateQuery): Promise<CandidateDecision[]>;
}

/** Which database holds the log: a label for telemetry and messages, never a switch for behaviour. */
export type StoreDialect = "sqlite" | "postgres";

/** Opening, probing and closing the log. */
export interface StoreLifecycle {
  readonly dialect: StoreDialect;
  /** Where the log lives (file path, or the PostgreSQL URL without password). */
  readonly location: string;
  /** A cheap write/read probe for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Every concern at once: what openStore returns, for the code that wires the consumers up. */
export interface DecisionStore
  extends DecisionLog,
    RolloutEventLog,
    VersionEventLog,
    CandidateLog,
    StoreLifecycle {}

export interface LogSize {
  bytes: number;
  /** The --max-log-size in bytes; null when there is none. */
  limit: number | null;
}

export interface PruneResult {
  decisions: number;
  candidates: number;
}

/** Options every dialect takes. */
export interface StoreOptions {
  /**
   * Largest log in bytes (see DecisionLog.size). A decision or candidate that would take the log past
   * it is refused with LogFullError; nothing stored is dropped to make room. Default: no limit.
   */
  maxBytes?: number | null;
  /**
   * Input paths masked before storage, e.g. "details", "t3_tensor", "action.parameters.password", "*.token";
   * each also names the same field in the other request shape, and the masked values are scrubbed from
   * every string of the record (see Masker in mask.ts).
   */
  mask?: string[];
  /** Most records committed in one transaction. */
  maxBatch?: number;
}
