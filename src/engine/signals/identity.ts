import { parseCount } from "../text.js";
import type { Detector, Finding } from "./types.js";

const DECLINING =
  /\b(declin\w*|decreas\w*|dropp?\w*|falling|fell|degrad\w*|worsen\w*|deteriorat\w*|downward|eroding|slipping)\b/;

const FAILURE =
  /(?<![\d,.])\b(\d{1,3}(?:,\d{3})*|\d+|no|zero|one|a|an|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many|numerous)\s+(?:recent\s+|consecutive\s+|straight\s+)?(?:failed|failing|unsuccessful|broken|botched|rolled[- ]back|reverted|aborted)\s+(?:\w+\s+)?(deploy\w*|build\w*|commit\w*|release\w*|attempt\w*|run\w*|migration\w*|job\w*|change\w*|login\w*|rollout\w*|push\w*|merge\w*)|(?<![\d,.])\b(\d{1,3}(?:,\d{3})*|\d+|no|zero|one|a|an|two|three|four|five|several|multiple|many)\s+(?:\w+\s+)?(failures|errors|incidents caused|outages caused|rollbacks)\b/g;

const UNUSUAL =
  /\b(unusual|uncharacteristic|out of character|not like|first time|atypical|abnormal|spike|never (before|had)|unlike)\b/;
const RATE_DROP =
  /\b(success|pass|approval)\s*rate\b[^.;]{0,30}\b(from)\s*(\d+(?:\.\d+)?)\s*%?\s*(to)\s*(\d+(?:\.\d+)?)\s*%?/;

/** Identity coherence below the policy's floor, or a declining trend, structured or stated. */
export const detectIdentity: Detector = (ctx) => {
  const out: Finding[] = [];
  const im = ctx.s.identity_metrics;
  const min = ctx.doc.identity.minCoherence;
  const rule = `identity.coherence: identity coherence below ${min} or declining calls for verification`;
  const reasons: string[] = [];
  if (typeof im?.coherence === "number" && im.coherence < min)
    reasons.push(`identity coherence ${im.coherence} is below ${min}`);
  if (typeof im?.trend === "string" && DECLINING.test(im.trend.toLowerCase()))
    reasons.push(`identity trend is ${im.trend}`);
  const cs = (ctx.s as Record<string, unknown>).coherence_state as Record<string, unknown> | undefined;
  if (cs && typeof cs.d9_score === "number" && cs.d9_score < min)
    reasons.push(`D9 coherence ${cs.d9_score} is below ${min}`);
  if (cs && cs.coupling_state === "decoupled") reasons.push("identity and quality are decoupled");
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const sentence of t.sentences) {
      if (
        /\b(coherence|performance|quality|reliability|trust|success rate|track record)\b/.test(sentence) &&
        DECLINING.test(sentence) &&
        !/\bnot\s+(declin|decreas|dropp)/.test(sentence)
      ) {
        reasons.push(`stated: "${sentence.slice(0, 120)}"`);
        break;
      }
    }
  }
  if (reasons.length) {
    out.push({
      id: "identity_decline",
      severity: "warn",
      detail: reasons.join("; "),
      effect: "escalate",
      rule,
      step: "context",
      phrase: `the actor's pattern changed recently: ${reasons.join("; ")}`,
      suspicious: true,
    });
  }

  // Recent failures, counted; negated counts ("no failed deploys") are evidence of the opposite.
  const failures: string[] = [];
  let total = 0;
  let unusual = false;
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const sentence of t.sentences) {
      FAILURE.lastIndex = 0;
      for (let m = FAILURE.exec(sentence); m; m = FAILURE.exec(sentence)) {
        const n = parseCount(m[1] ?? m[3] ?? "") ?? 0;
        if (n <= 0) continue;
        total += n;
        failures.push(m[0].trim());
        if (UNUSUAL.test(sentence)) unusual = true;
      }
      const drop = RATE_DROP.exec(sentence);
      if (drop && Number(drop[5]) < Number(drop[3]) - 5) {
        failures.push(drop[0]);
        total += 2;
        unusual = true;
      }
    }
  }
  if (failures.length && (total >= 2 || unusual)) {
    out.push({
      id: "recent_failures",
      severity: "warn",
      detail: `${failures.join("; ")}${unusual ? " (unusual for the actor)" : ""}`,
      effect: "escalate",
      rule: "context.recent_failures: repeated or unusual recent failures call for verification before high-impact work",
      step: "context",
      phrase: `recent failures (${failures.join("; ")})${unusual ? ", unusual for the actor," : ""} show declining performance`,
      suspicious: true,
    });
  } else if (failures.length) {
    out.push({
      id: "recent_failures",
      severity: "info",
      detail: failures.join("; "),
      effect: "note",
      rule: "context.recent_failures: an isolated failure is noted, not escalated",
      step: "context",
      phrase: `an isolated recent failure (${failures.join("; ")})`,
    });
  }
  return out;
};
