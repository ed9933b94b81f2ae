/**
 * The shapes the console reads. The wire types are the server's own, inferred from its zod schemas in
 * src/schemas and imported as types only: erased from the emitted JavaScript, so the browser bundle pulls
 * nothing in. Where the sidecar sends more than the HTTP contract for review/rollout promises, the
 * console's type marks the addition optional, so it keeps working against any server that honours the
 * contract. ui/tsconfig.schemas.json compiles src/schemas to declarations for this build.
 */
import type { DecisionValue, Mode, RiskLevel } from "../../src/schemas/common.js";
import type { Decision, Signal, Tier } from "../../src/schemas/decision.js";
import type { DecisionRecord, Review, ReviewCategory } from "../../src/schemas/records.js";
import type {
  Gate,
  RollbackEntry,
  SeriesPoint,
  TierStatus,
  Measures as WireMeasures,
} from "../../src/schemas/rollout.js";

export type {
  Decision,
  DecisionRecord,
  DecisionValue,
  Gate,
  Mode,
  Review,
  ReviewCategory,
  RiskLevel,
  SeriesPoint,
  Signal,
  Tier,
};

export const DECISIONS: readonly DecisionValue[] = ["allow", "deny", "require_attestation"];
export const TIERS: readonly Tier[] = ["read", "write", "deploy_nonprod", "deploy_prod", "admin"];
export const MODES: readonly Mode[] = ["shadow", "advisory", "enforce"];

export interface Page<T> {
  items: T[];
  total: number;
}

/** Sample sizes behind the rates are sent by the sidecar beyond the contract's minimum. */
export type Measures = Omit<WireMeasures, "samples"> & Partial<Pick<WireMeasures, "samples">>;

export interface Stats {
  overall: Measures;
  perTier: Partial<Record<Tier, Measures>>;
  series: SeriesPoint[];
}

/** `from` is null when the tier had no recorded mode before. */
export type RollbackEvent = Pick<RollbackEntry, "at" | "reason" | "from" | "to">;

/** Additions the store's rollout sends: the configured mode, when the current one began, where the sample begins. */
export type TierRollout = Pick<TierStatus, "tier" | "mode" | "gates" | "mayPromote" | "nextMode"> &
  Partial<Pick<TierStatus, "configuredMode" | "since" | "measuresSince">> & {
    measures: Measures;
    rollbacks: RollbackEvent[];
  };

export interface Rollout {
  tiers: TierRollout[];
}

export interface Runtime {
  cache: { enabled: boolean; size: number; hits: number; misses: number; hitRate: number | null };
  queue: { depth: number; running: number; capacity: number; concurrency: number };
  llm: { kind: string; model: string; prompt: string; parallelism: number } | null;
  circuit: "closed" | "open" | "half_open" | null;
  /** Additions the sidecar sends beyond the contract's minimum. */
  engine?: string;
  versions?: Decision["versions"];
  jobs?: { pending: number; finished: number };
  /** With serve --queue: the shared queue on Redis (the whole deployment's numbers), or why it is unreadable. */
  sharedQueue?:
    | {
        url: string;
        workers: number;
        waiting: number;
        active: number;
        delayed: number;
        completed: number;
        failed: number;
        capacity: number;
        perCaller: number;
        drainPerSecond: number | null;
        oldestWaitSeconds: number;
        stalled: number;
        retries: number;
      }
    | { url: string; error: string };
}
