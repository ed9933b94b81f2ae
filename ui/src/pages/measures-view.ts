import { mountChart } from "../charts.js";
import { ms, pct, rateOf } from "../format.js";
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

export const rate = (v: number): string => `${(v * 100).toFixed(0)} %`;

export function measureFacts(label: string, m: Measures): HTMLElement {
  return facts(label, [
    ["Sample size", `${m.decisions} decision${m.decisions === 1 ? "" : "s"}`],
    ["Agreement rate", rateOf(m.agreementRate, m.samples?.withControl, "with a control")],
    ["Override rate", rateOf(m.overrideRate, m.samples?.reviewed, "reviewed")],
    ["Error rate", pct(m.errorRate)],
    ["Wrong allows at high risk", String(m.wrongAllowsHighRisk)],
    [
      "Allow / deny / attest",
      `${m.distribution.allow} / ${m.distribution.deny} / ${m.distribution.require_attestation}`,
    ],
    ["Latency p50 / p95 / p99", `${ms(m.latencyMs.p50)} / ${ms(m.latencyMs.p95)} / ${ms(m.latencyMs.p99)}`],
  ]);
}

export function rateChart(
  container: HTMLElement,
  title: string,
  series: SeriesPoint[],
  period: [string, string],
): void {
  mountChart(container, {
    title,
    period,
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
    format: rate,
    yRange: [0, 1],
  });
}
