import { type ChartUnit, mountChart } from "../charts.js";
import { ms, pct, rateOf, when } from "../format.js";
import type { Measures, SeriesPoint } from "../types.js";
import { facts } from "../widgets.js";

/** Measures and rate charts, shared by the overall view and the tier cards of the operator page. */

export const COLORS = {
  allow: "#1a7f37",
  deny: "#c62828",
  require_attestation: "#b26a00",
  agreement: "#1f5fbf",
  override: "#8e24aa",
  error: "#c62828",
};

/** Rates as percentages on every chart: the axis, the table and the facts read alike. */
export const PERCENT: ChartUnit = { name: "%", value: (v) => (v * 100).toFixed(0) };
export const MILLISECONDS: ChartUnit = {
  name: "ms",
  value: (v) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)),
};
export const perBucket = (bucket: "hour" | "day"): ChartUnit => ({
  name: `decisions per ${bucket}`,
  value: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)),
});

/** The facts of a set of measures; `since` says from when the sample runs (the sizes mean little without it). */
export function measureFacts(label: string, m: Measures, since?: string): HTMLElement {
  const decisions = `${m.decisions} decision${m.decisions === 1 ? "" : "s"}`;
  return facts(label, [
    ["Sample size", since ? `${decisions} since ${when(since)}` : decisions],
    ["Agreement rate", rateOf(m.agreementRate, m.samples?.withControl, "with a control")],
    ["Override rate", rateOf(m.overrideRate, m.samples?.reviewed, "reviewed")],
    ["Error rate", m.decisions === 0 ? pct(null) : pct(m.errorRate)],
    ["Wrong allows at high risk", String(m.wrongAllowsHighRisk)],
    [
      "Allow / deny / attest",
      `${m.distribution.allow} / ${m.distribution.deny} / ${m.distribution.require_attestation}`,
    ],
    [
      "Latency p50 / p95 / p99",
      m.decisions === 0
        ? "no sample"
        : `${ms(m.latencyMs.p50)} / ${ms(m.latencyMs.p95)} / ${ms(m.latencyMs.p99)}`,
    ],
  ]);
}

export function rateChart(container: HTMLElement, title: string, series: SeriesPoint[]): void {
  mountChart(container, {
    title,
    times: series.map((s) => s.t),
    series: [
      { label: "Agreement rate", values: series.map((s) => s.agreementRate), color: COLORS.agreement },
      {
        label: "Override rate",
        values: series.map((s) => s.overrideRate),
        color: COLORS.override,
        dash: [6, 4],
      },
    ],
    unit: PERCENT,
    yRange: [0, 1],
  });
}
