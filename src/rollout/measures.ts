import type { DecisionValue } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { DecisionFacts } from "../schemas/records.js";
import type { Measures, SeriesPoint } from "../schemas/rollout.js";

const HIGH_RISK = new Set(["high", "critical"]);

export const isWrongAllowHighRisk = (r: DecisionFacts): boolean =>
  r.review !== undefined &&
  r.decision.decision === "allow" &&
  r.review.finalDecision !== "allow" &&
  HIGH_RISK.has(r.decision.riskLevel);

export const isOverride = (r: DecisionFacts): boolean =>
  r.review !== undefined && r.review.finalDecision !== r.decision.decision;

export const isMismatch = (r: DecisionFacts): boolean =>
  r.control !== undefined && r.control !== r.decision.decision;

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const ratio = (n: number, d: number): number | null => (d === 0 ? null : round(n / d));

export function computeMeasures(records: readonly DecisionFacts[]): Measures {
  const distribution: Record<DecisionValue, number> = { allow: 0, deny: 0, require_attestation: 0 };
  let withControl = 0;
  let agree = 0;
  let reviewed = 0;
  let overrides = 0;
  let fallbacks = 0;
  let wrongAllows = 0;
  const latencies: number[] = [];
  for (const r of records) {
    distribution[r.decision.decision] += 1;
    latencies.push(r.decision.latencyMs);
    if (r.decision.source === "fallback") fallbacks += 1;
    if (r.control !== undefined) {
      withControl += 1;
      if (r.control === r.decision.decision) agree += 1;
    }
    if (r.review) {
      reviewed += 1;
      if (isOverride(r)) overrides += 1;
      if (isWrongAllowHighRisk(r)) wrongAllows += 1;
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    decisions: records.length,
    agreementRate: ratio(agree, withControl),
    overrideRate: ratio(overrides, reviewed),
    errorRate: ratio(fallbacks, records.length),
    wrongAllowsHighRisk: wrongAllows,
    distribution,
    latencyMs: {
      p50: round(percentile(latencies, 50), 3),
      p95: round(percentile(latencies, 95), 3),
      p99: round(percentile(latencies, 99), 3),
    },
    samples: { withControl, reviewed },
  };
}

export function measuresByTier(records: readonly DecisionFacts[]): Partial<Record<Tier, Measures>> {
  const groups = new Map<Tier, DecisionFacts[]>();
  for (const r of records) {
    const g = groups.get(r.tier);
    if (g) g.push(r);
    else groups.set(r.tier, [r]);
  }
  return Object.fromEntries([...groups].map(([t, rs]) => [t, computeMeasures(rs)]));
}

/** "policy / prompt / model" of a decision: the unit a version comparison is made on. */
export const versionKey = (r: DecisionFacts): string => {
  const v = r.decision.versions;
  return `policy=${v.policy} prompt=${v.prompt ?? "none"} model=${v.model ?? "none"}`;
};

export function measuresByVersion(records: readonly DecisionFacts[]): Record<string, Measures> {
  const groups = new Map<string, DecisionFacts[]>();
  for (const r of records) {
    const k = versionKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return Object.fromEntries([...groups].map(([k, rs]) => [k, computeMeasures(rs)]));
}

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;

/** Measures per hour or day (UTC), oldest first; empty buckets between the first and last are included. */
export function series(records: readonly DecisionFacts[], bucket: "hour" | "day"): SeriesPoint[] {
  const size = BUCKET_MS[bucket];
  const groups = new Map<number, DecisionFacts[]>();
  for (const r of records) {
    const k = Math.floor(Date.parse(r.createdAt) / size) * size;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  if (groups.size === 0) return [];
  const keys = [...groups.keys()];
  const first = Math.min(...keys);
  const last = Math.max(...keys);
  const out: SeriesPoint[] = [];
  for (let t = first; t <= last; t += size) {
    const m = computeMeasures(groups.get(t) ?? []);
    out.push({
      t: new Date(t).toISOString(),
      decisions: m.decisions,
      allow: m.distribution.allow,
      deny: m.distribution.deny,
      require_attestation: m.distribution.require_attestation,
      agreementRate: m.agreementRate,
      overrideRate: m.overrideRate,
      errorRate: m.errorRate,
      p50: m.latencyMs.p50,
      p95: m.latencyMs.p95,
      p99: m.latencyMs.p99,
    });
  }
  return out;
}

/** Largest change in the share of any decision value between two distributions (0..1). */
export function distributionShift(
  a: Record<DecisionValue, number>,
  b: Record<DecisionValue, number>,
): number {
  const ta = a.allow + a.deny + a.require_attestation;
  const tb = b.allow + b.deny + b.require_attestation;
  if (ta === 0 || tb === 0) return 0;
  let max = 0;
  for (const k of ["allow", "deny", "require_attestation"] as const)
    max = Math.max(max, Math.abs(a[k] / ta - b[k] / tb));
  return round(max);
}
