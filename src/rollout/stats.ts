import type { Tier } from "../schemas/decision.js";
import type { Measures, SeriesPoint } from "../schemas/rollout.js";
import type { DecisionLog } from "../store/types.js";
import { computeMeasures, measuresByTier, measuresByVersion, series } from "./measures.js";

export interface StatsQuery {
  since?: string;
  until?: string;
  tier?: Tier;
  bucket?: "hour" | "day";
}

export interface Stats {
  overall: Measures;
  perTier: Partial<Record<Tier, Measures>>;
  perVersion: Record<string, Measures>;
  series: SeriesPoint[];
}

/** Most records one statistics request reads (the newest); a bound on memory and time for huge logs. */
export const STATS_MAX_RECORDS = 500_000;

/** Hourly buckets for ranges up to two days, daily beyond (or with no range given). */
export function defaultBucket(since?: string, until?: string, now = Date.now()): "hour" | "day" {
  if (!since) return "day";
  const end = until ? Date.parse(until) : now;
  return end - Date.parse(since) <= 2 * 86_400_000 ? "hour" : "day";
}

/** Measures overall, per tier, per version and as a time series, over the decisions a query selects. */
export async function computeStats(store: DecisionLog, q: StatsQuery): Promise<Stats> {
  const records = await store.facts({
    ...(q.since ? { since: q.since } : {}),
    ...(q.until ? { until: q.until } : {}),
    ...(q.tier ? { tier: q.tier } : {}),
    order: "desc",
    limit: STATS_MAX_RECORDS,
  });
  records.reverse();
  return {
    overall: computeMeasures(records),
    perTier: measuresByTier(records),
    perVersion: measuresByVersion(records),
    series: series(records, q.bucket ?? defaultBucket(q.since, q.until)),
  };
}
