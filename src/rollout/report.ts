import type { DecisionValue } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { DecisionRecord } from "../schemas/records.js";
import type { Measures } from "../schemas/rollout.js";
import type { DecisionLog } from "../store/types.js";
import { DEFAULT_ROLLOUT, type RolloutConfig } from "./config.js";
import { computeMeasures, isMismatch, isOverride, measuresByTier, measuresByVersion } from "./measures.js";
import { STATS_MAX_RECORDS } from "./stats.js";

export interface Criterion {
  name: string;
  /** null when the log holds no evidence either way (e.g. no review yet). */
  met: boolean | null;
  detail: string;
}

export interface PeriodMeasures extends Measures {
  start: string;
  end: string;
}

export interface Report {
  since: string | null;
  until: string;
  decisions: number;
  agreementRate: number | null;
  overrideRate: number | null;
  errorRate: number | null;
  wrongAllowsHighRisk: number;
  distribution: Record<DecisionValue, number>;
  latencyMs: { p50: number; p95: number; p99: number };
  availability: number | null;
  lastWeek: Measures;
  lastMonth: Measures;
  weekly: PeriodMeasures[];
  monthly: PeriodMeasures[];
  perTier: Partial<Record<Tier, Measures>>;
  perVersion: Record<string, Measures>;
  topMismatches: {
    tier: Tier;
    action: string;
    control: DecisionValue;
    decision: DecisionValue;
    count: number;
    example: string;
  }[];
  topOverrides: {
    tier: Tier;
    action: string;
    advice: DecisionValue;
    final: DecisionValue;
    category: string;
    count: number;
    example: string;
  }[];
  criteria: Criterion[];
}

const DAY = 86_400_000;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

const actionOf = (r: DecisionRecord): string => {
  const i = r.input as Record<string, unknown> | null;
  if (i && typeof i.action_type === "string") return i.action_type;
  const a = i?.action as Record<string, unknown> | undefined;
  return typeof a?.type === "string" ? a.type : "(unknown)";
};

function top<K extends string, T extends { count: number; example: string }>(
  records: DecisionRecord[],
  keyOf: (r: DecisionRecord) => K,
  make: (r: DecisionRecord) => Omit<T, "count" | "example">,
  n = 10,
): T[] {
  const groups = new Map<K, T>();
  for (const r of records) {
    const k = keyOf(r);
    const g = groups.get(k);
    if (g) g.count += 1;
    else groups.set(k, { ...make(r), count: 1, example: r.decisionId } as T);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, n);
}

/** Decisions whose four reasoning steps are all present. */
const hasReasoning = (r: DecisionRecord): boolean => {
  const x = r.decision.reasoning;
  return [x?.roleCheck, x?.trustCheck, x?.environment, x?.context].every(
    (s) => typeof s === "string" && s.trim().length > 0,
  );
};

/** Calendar periods (UTC) covering [from, to): weeks start on Monday, months on the 1st. */
function periods(from: number, to: number, kind: "week" | "month", max: number): [number, number][] {
  const out: [number, number][] = [];
  const d = new Date(from);
  let start =
    kind === "week"
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7))
      : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  while (start < to) {
    const s = new Date(start);
    const end = kind === "week" ? start + 7 * DAY : Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1);
    out.push([start, end]);
    start = end;
  }
  return out.slice(-max);
}

function periodMeasures(
  records: DecisionRecord[],
  from: number,
  to: number,
  kind: "week" | "month",
): PeriodMeasures[] {
  return periods(from, to, kind, kind === "week" ? 26 : 12).map(([s, e]) => ({
    start: new Date(s).toISOString(),
    end: new Date(e).toISOString(),
    ...computeMeasures(
      records.filter((r) => {
        const t = Date.parse(r.createdAt);
        return t >= s && t < e;
      }),
    ),
  }));
}

/**
 * The numbers from the decision log over [since, until): the INTERFACES.md fields, weekly and monthly
 * numbers, top mismatches and overrides, and the reference's success criteria each met or not.
 */
export async function buildReport(
  store: DecisionLog,
  opts: { since?: string; until?: string; config?: RolloutConfig; now?: number } = {},
): Promise<Report> {
  const now = opts.now ?? Date.now();
  const until = opts.until ?? new Date(now).toISOString();
  const cfg = opts.config ?? DEFAULT_ROLLOUT;
  const records = await store.query({
    ...(opts.since ? { since: opts.since } : {}),
    until,
    order: "desc",
    limit: STATS_MAX_RECORDS,
  });
  records.reverse();
  const m = computeMeasures(records);
  const end = Date.parse(until);
  const from = opts.since ? Date.parse(opts.since) : records[0] ? Date.parse(records[0].createdAt) : end;
  const within = (ms: number) => records.filter((r) => Date.parse(r.createdAt) >= end - ms);

  const budget = cfg.rollback.latencyBudgetMs;
  const available = records.filter(
    (r) => r.decision.source !== "fallback" && r.decision.latencyMs <= budget,
  ).length;
  const availability = records.length === 0 ? null : available / records.length;
  const withoutReasoning = records.filter((r) => !hasReasoning(r)).length;
  const none = records.length === 0;

  const criteria: Criterion[] = [
    {
      name: "availability_above_99",
      met: availability === null ? null : availability > 0.99,
      detail:
        availability === null
          ? "no decision in the period"
          : `${pct(availability)} of decisions answered by the advisor itself within the ${budget} ms budget (not the fail-closed fallback)`,
    },
    {
      name: "p95_within_budget",
      met: none ? null : m.latencyMs.p95 <= budget,
      detail: none ? "no decision in the period" : `p95 ${m.latencyMs.p95} ms (budget ${budget} ms)`,
    },
    {
      name: "error_rate_below_1",
      met: m.errorRate === null ? null : m.errorRate < 0.01,
      detail:
        m.errorRate === null
          ? "no decision in the period"
          : `error rate ${pct(m.errorRate)} (fallback answers)`,
    },
    {
      name: "override_rate_below_10",
      met: m.overrideRate === null ? null : m.overrideRate < 0.1,
      detail:
        m.overrideRate === null
          ? "no review in the period"
          : `override rate ${pct(m.overrideRate)} over ${m.samples.reviewed} reviews`,
    },
    {
      name: "zero_wrong_allows_high_risk",
      met: m.samples.reviewed === 0 ? null : m.wrongAllowsHighRisk === 0,
      detail:
        m.samples.reviewed === 0
          ? "no review in the period"
          : `${m.wrongAllowsHighRisk} wrong allow(s) on high-risk actions found in ${m.samples.reviewed} reviews`,
    },
    {
      name: "every_decision_with_reasoning",
      met: none ? null : withoutReasoning === 0,
      detail: none
        ? "no decision in the period"
        : `${records.length - withoutReasoning} of ${records.length} decisions carry all four reasoning steps`,
    },
  ];

  return {
    since: opts.since ?? null,
    until,
    decisions: m.decisions,
    agreementRate: m.agreementRate,
    overrideRate: m.overrideRate,
    errorRate: m.errorRate,
    wrongAllowsHighRisk: m.wrongAllowsHighRisk,
    distribution: m.distribution,
    latencyMs: m.latencyMs,
    availability: availability === null ? null : Math.round(availability * 10_000) / 10_000,
    lastWeek: computeMeasures(within(7 * DAY)),
    lastMonth: computeMeasures(within(30 * DAY)),
    weekly: periodMeasures(records, from, end, "week"),
    monthly: periodMeasures(records, from, end, "month"),
    perTier: measuresByTier(records),
    perVersion: measuresByVersion(records),
    topMismatches: top(
      records.filter(isMismatch),
      (r) => `${r.tier}|${actionOf(r)}|${r.control}|${r.decision.decision}`,
      (r) => ({ tier: r.tier, action: actionOf(r), control: r.control!, decision: r.decision.decision }),
    ),
    topOverrides: top(
      records.filter(isOverride),
      (r) =>
        `${r.tier}|${actionOf(r)}|${r.decision.decision}|${r.review!.finalDecision}|${r.review!.category}`,
      (r) => ({
        tier: r.tier,
        action: actionOf(r),
        advice: r.decision.decision,
        final: r.review!.finalDecision,
        category: r.review!.category,
      }),
    ),
    criteria,
  };
}
