/**
 * The shapes the console reads, as the HTTP contract for review/rollout defines them.
 * Kept apart from the server's own types on purpose: the browser bundle must not pull Node modules in,
 * and the console should keep working against any server that honours the contract.
 */

export type DecisionValue = "allow" | "deny" | "require_attestation";
export type RiskLevel = "low" | "medium" | "high" | "critical";
export type Mode = "shadow" | "advisory" | "enforce";
export type Tier = "read" | "write" | "deploy_nonprod" | "deploy_prod" | "admin";
export type ReviewCategory = "agree" | "too_strict" | "too_permissive" | "unclear";

export const DECISIONS: readonly DecisionValue[] = ["allow", "deny", "require_attestation"];
export const TIERS: readonly Tier[] = ["read", "write", "deploy_nonprod", "deploy_prod", "admin"];
export const MODES: readonly Mode[] = ["shadow", "advisory", "enforce"];

export interface Signal {
  id: string;
  severity: "info" | "warn" | "critical";
  detail: string;
}

export interface Decision {
  decisionId: string;
  decision: DecisionValue;
  classification: string;
  riskLevel: RiskLevel;
  reasoning: { roleCheck: string; trustCheck: string; environment: string; context: string };
  policyReferences: string[];
  signals: Signal[];
  source: "engine" | "llm" | "cache" | "fallback";
  versions: { policy: string; prompt: string | null; model: string | null };
  latencyMs: number;
  tier?: Tier;
  fallbackCause?: string;
  disagreement?: { engine: DecisionValue; llm: DecisionValue; kept: "engine" | "llm"; why: string };
}

export interface Review {
  reviewer: string;
  finalDecision: DecisionValue;
  category: ReviewCategory;
  notes?: string;
  reviewedAt: string;
}

export interface DecisionRecord {
  decisionId: string;
  createdAt: string;
  input: unknown;
  shape: "situation" | "r6";
  decision: Decision;
  mode: Mode;
  tier: Tier;
  control?: DecisionValue;
  effectiveDecision: DecisionValue;
  review?: Review;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Measures {
  decisions: number;
  agreementRate: number | null;
  overrideRate: number | null;
  errorRate: number | null;
  wrongAllowsHighRisk: number;
  distribution: Record<DecisionValue, number>;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Sample sizes behind the rates (sent by the sidecar beyond the contract's minimum). */
  samples?: { withControl: number; reviewed: number };
}

export interface SeriesPoint {
  t: string;
  decisions: number;
  allow: number;
  deny: number;
  require_attestation: number;
  agreementRate: number | null;
  overrideRate: number | null;
  errorRate: number | null;
  p50: number;
  p95: number;
  p99: number;
}

export interface Stats {
  overall: Measures;
  perTier: Partial<Record<Tier, Measures>>;
  series: SeriesPoint[];
}

export interface Gate {
  name: string;
  passed: boolean;
  detail: string;
}

export interface RollbackEvent {
  at: string;
  reason: string;
  /** null when the tier had no recorded mode before. */
  from: Mode | null;
  to: Mode;
}

export interface TierRollout {
  tier: Tier;
  mode: Mode;
  /** Additions the store's rollout sends: the configured mode and when the current one began. */
  configuredMode?: Mode;
  since?: string | null;
  measures: Measures;
  gates: Gate[];
  mayPromote: boolean;
  nextMode: Mode | null;
  rollbacks: RollbackEvent[];
}

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
  versions?: { policy: string; prompt: string | null; model: string | null };
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
