import type { Mode } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { DecisionFacts } from "../schemas/records.js";
import type { Gate, Measures } from "../schemas/rollout.js";
import { type GatesConfig, nextMode } from "./config.js";

export interface GateResult {
  nextMode: Mode | null;
  gates: Gate[];
  mayPromote: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Agreement for the advisory -> enforce step: against the reviewer's final decision where there is a
 * review, else against the caller's control. In advisory mode callers often stop sending controls;
 * reviews are then the evidence.
 */
export function referenceAgreement(records: readonly DecisionFacts[]): {
  rate: number | null;
  sample: number;
} {
  let sample = 0;
  let agree = 0;
  for (const r of records) {
    const ref = r.review?.finalDecision ?? r.control;
    if (ref === undefined) continue;
    sample += 1;
    if (ref === r.decision.decision) agree += 1;
  }
  return { rate: sample === 0 ? null : agree / sample, sample };
}

function wrongAllowGate(m: Measures, cfg: GatesConfig): Gate {
  return {
    name: "no_wrong_allows_high_risk",
    passed: m.wrongAllowsHighRisk <= cfg.maxWrongAllowsHighRisk,
    detail: `${m.wrongAllowsHighRisk} wrong allow(s) on high-risk actions found by review (at most ${cfg.maxWrongAllowsHighRisk})`,
  };
}

/**
 * The gates between a tier's current mode and the next one, from the reference's plan: agreement above
 * 80% to leave shadow; above 90%, overrides below 10% (5% for reads) to enforce; never a wrong allow on a
 * high-risk action. Each over a minimum sample, so a handful of lucky decisions promotes nothing.
 */
export function evaluateGates(
  tier: Tier,
  mode: Mode,
  m: Measures,
  records: readonly DecisionFacts[],
  cfg: GatesConfig,
): GateResult {
  const next = nextMode(tier, mode);
  if (next === null) return { nextMode: null, gates: [], mayPromote: false };
  const gates: Gate[] = [];
  if (next === "advisory") {
    const n = m.samples.withControl;
    gates.push({
      name: "agreement_sample",
      passed: n >= cfg.minSample,
      detail: `${n} decisions with a control (need ${cfg.minSample})`,
    });
    gates.push({
      name: "agreement_above_80",
      passed: m.agreementRate !== null && m.agreementRate > cfg.advisoryAgreement,
      detail:
        m.agreementRate === null
          ? "no decision with a control yet"
          : `agreement ${pct(m.agreementRate)} (need above ${pct(cfg.advisoryAgreement)})`,
    });
  } else {
    const a = referenceAgreement(records);
    gates.push({
      name: "agreement_sample",
      passed: a.sample >= cfg.minSample,
      detail: `${a.sample} decisions with a review or a control (need ${cfg.minSample})`,
    });
    gates.push({
      name: "agreement_above_90",
      passed: a.rate !== null && a.rate > cfg.enforceAgreement,
      detail:
        a.rate === null
          ? "no decision with a review or a control yet"
          : `agreement ${pct(a.rate)} with reviews and controls (need above ${pct(cfg.enforceAgreement)})`,
    });
    const limit = tier === "read" ? cfg.maxOverrideRateRead : cfg.maxOverrideRate;
    gates.push({
      name: "review_sample",
      passed: m.samples.reviewed >= cfg.minReviews,
      detail: `${m.samples.reviewed} reviews (need ${cfg.minReviews})`,
    });
    gates.push({
      name: tier === "read" ? "overrides_below_5" : "overrides_below_10",
      passed: m.overrideRate !== null && m.overrideRate < limit,
      detail:
        m.overrideRate === null
          ? "no review yet"
          : `override rate ${pct(m.overrideRate)} (need below ${pct(limit)})`,
    });
  }
  gates.push(wrongAllowGate(m, cfg));
  return { nextMode: next, gates, mayPromote: gates.every((g) => g.passed) };
}
