import { wordEnd } from "../../util/text.js";
import { Phrase } from "../scan.js";
import { parseCount } from "../text.js";
import type { Detector, Finding } from "./types.js";

/*
 * The sentences are folded text (text.ts): one space between words, so `\s*` is ` ?` and `\s+` is ` `
 * here, which keeps the patterns small enough for the ReDoS analyser to prove them linear.
 */

/** A declining trend: a word with one of these stems, or one of the whole words (tested, never quoted). */
const DECLINING =
  /\b(?:declin|decreas|drop|degrad|worsen|deteriorat)|\b(?:falling|fell|downward|eroding|slipping)\b/;

/**
 * Counted failures: "3 failed deploys", "two broken builds", "several errors". The noun of the first
 * form is a stem: the quoted match runs on to the end of its word (`deploy\w*` in the one regex before).
 */
const FAILURE =
  /(?<![\d,.])\b(\d{1,3}(?:,\d{3})*|\d+|no|zero|one|a|an|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many|numerous) (?:recent |consecutive |straight )?(?:failed|failing|unsuccessful|broken|botched|rolled[- ]back|reverted|aborted) (?:\w+ )?(deploy|build|commit|release|attempt|run|migration|job|change|login|rollout|push|merge)|(?<![\d,.])\b(\d{1,3}(?:,\d{3})*|\d+|no|zero|one|a|an|two|three|four|five|several|multiple|many) (?:\w+ )?(failures|errors|incidents caused|outages caused|rollbacks)\b/g;

const UNUSUAL =
  /\b(unusual|uncharacteristic|out of character|not like|first time|atypical|abnormal|spike|never (before|had)|unlike)\b/;
/** "success rate fell from 95% to 60%": the rate, then within 30 characters of the clause the two values. */
const RATE_DROP = new Phrase(/\b(?:success|pass|approval) ?rate\b/g, [
  [{ max: 30, stops: ".;" }, /\bfrom ?(\d+(?:\.\d+)?) ?%? ?to ?(\d+(?:\.\d+)?) ?%?/y],
]);

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
        !/\bnot (declin|decreas|dropp)/.test(sentence)
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
        // A noun stem ("deploy") is quoted to the end of its word ("deployments"), and matching goes on there.
        const end = m[2] === undefined ? FAILURE.lastIndex : wordEnd(sentence, FAILURE.lastIndex);
        FAILURE.lastIndex = end;
        const n = parseCount(m[1] ?? m[3] ?? "") ?? 0;
        if (n <= 0) continue;
        total += n;
        failures.push(sentence.slice(m.index, end).trim());
        if (UNUSUAL.test(sentence)) unusual = true;
      }
      const drop = RATE_DROP.exec(sentence);
      const [, rate] = drop?.parts ?? [];
      if (drop && rate && Number(rate[2]) < Number(rate[1]) - 5) {
        failures.push(drop.text);
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
