import { wordsToNumbers } from "words-to-numbers";
import { wordEnd } from "../../util/text.js";
import type { Detector, Finding } from "./types.js";

/**
 * Whole words (group 1) or stems; a stem is quoted to the end of its word, as `truncat\w*\b` was. No two
 * alternatives match at one place, so grouping them keeps the match. Without the `\w*`s the regex is small
 * enough for the ReDoS analyser's exact check.
 */
const DESTRUCTIVE =
  /\b(?:(delete|deleting|drop|dropping|wipe|wiping|rm -rf|turn(?:ing)? off|switch(?:ing)? off|erase|erasing)\b|truncat|purg|destroy|mass[- ]delet|force[- ]push|disabl|bypass|suppress|tamper|overwrit)/;

/** The destructive words in `subject`, quoted whole. */
function destructiveWord(subject: string): string | undefined {
  const m = DESTRUCTIVE.exec(subject);
  if (!m) return undefined;
  return m[1] !== undefined ? m[0] : subject.slice(m.index, wordEnd(subject, m.index + m[0].length));
}

/** Destructive or protection-removing work; on critical infrastructure it is what "suspicious" means. */
export const detectDestructive: Detector = (ctx) => {
  const subject = `${ctx.action.replace(/_/g, " ")} ${(typeof ctx.s.details === "string" ? ctx.s.details : "").toLowerCase()} ${ctx.texts
    .filter((t) => /description|intent|parameters/.test(t.path))
    .map((t) => t.lower)
    .join(" ")}`;
  const word = destructiveWord(subject);
  if (word === undefined || ctx.actionClass === "read") return [];
  const onCritical = ctx.critical;
  const f: Finding = {
    id: "destructive_change",
    severity: onCritical ? "critical" : ctx.production ? "warn" : "info",
    detail: `"${word}" on ${ctx.resource || "the target"}`,
    effect: onCritical || ctx.production ? "escalate" : "note",
    rule: onCritical
      ? "environment.critical_infrastructure: removing or weakening protections on critical infrastructure is refused"
      : "environment.destructive: destructive changes to production need verification",
    step: "environment",
    phrase: `a destructive change ("${word}")${onCritical ? " to critical infrastructure" : ctx.production ? " in production" : ""}`,
    suspicious: true,
  };
  return [f];
};

/** Words that make a number in a trust sentence a requirement: "requires", "at least", "min", "mindestens". */
const REQUIREMENT =
  /\b(?:requir|mandat|exig)|\b(?:needs?|needed|must|min|minimum|at least|threshold|floor|no less than|not below|bar|cutoff|cut-off|mindestens|al menos|como minimo|au moins|minimo|almeno)\b|>=|≥/;
const TRUST_WORD = /\b(trust|t3|score|confianza|vertrauen|confiance|fiducia)\b/;
/** A number in a sentence after number words became digits: 0.8, .75, 75%, 75 percent. */
const NUMBER =
  /(?<![\d.])(\d{1,3}(?:\.\d{1,4})?|\.\d{1,4})\s*(%|percent|per cent|prozent|por ciento|pour cent|pourcent)?/g;

/** "seventy-five percent" -> "75 percent", "zero point eight" -> "0.8": numbers in words read as numbers. */
function numbersAsDigits(sentence: string): string {
  if (!/[a-z]/.test(sentence)) return sentence;
  const converted = wordsToNumbers(sentence);
  return typeof converted === "string" ? converted : String(converted ?? sentence);
}

/** A trust threshold stated in the text ("requires 0.8 trust for deploys"): it can only raise the policy's. */
export const detectStatedThreshold: Detector = (ctx) => {
  let best: { v: number; path: string } | undefined;
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const raw of t.sentences) {
      // "Deploys need 0.8." says trust without the word: a requirement naming a class counts too.
      if (!REQUIREMENT.test(raw)) continue;
      if (!TRUST_WORD.test(raw) && !Object.values(CLASS_WORDS).some((re) => re.test(raw))) continue;
      const s = numbersAsDigits(raw.replace(/-/g, " "));
      // Scoped to another class ("for reads") when this is not one: not ours.
      const scope = Object.entries(CLASS_WORDS)
        .filter(([, re]) => re.test(s))
        .map(([c]) => c);
      if (scope.length && !scope.includes(ctx.actionClass)) continue;
      for (const m of s.matchAll(NUMBER)) {
        const n = Number(m[1]);
        // A whole number without a percent sign ("3 deploys", "90 days") is a count, not a score.
        if (!m[2] && !m[1]!.includes(".")) continue;
        const v = m[2] ? n / 100 : n;
        if (v > 0 && v <= 1 && (!best || v > best.v)) best = { v, path: t.path };
      }
    }
  }
  if (!best) return [];
  return [
    {
      id: "stated_trust_threshold",
      severity: "info",
      detail: `${best.path} states a trust threshold of ${best.v}`,
      effect: "note",
      rule: "trust.stated: a threshold stated by the team applies when it is stricter than the policy's",
      step: "trust",
      phrase: `the team requires trust of ${best.v}`,
      statedThreshold: best.v,
    },
  ];
};

const CLASS_WORDS: Record<string, RegExp> = {
  read: /\b(reads?|reading|view\w*)\b/,
  write: /\b(writes?|commits?|changes?|merges?|edits?)\b/,
  deploy: /\bdeploy|\b(?:releases?|rollbacks?|production changes?)\b/,
  admin: /\badmin|\b(?:membership|permissions?|privileges?)\b/,
};

const RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/** The caller's own risk assessment (R6 context) can raise the assessed risk, never lower it. */
export const detectCallerRisk: Detector = (ctx) => {
  const r = ctx.s.caller_risk_assessment;
  if (!r || RANK[r] < RANK.high) return [];
  return [
    {
      id: "caller_risk_assessment",
      severity: r === "critical" ? "warn" : "info",
      detail: `the caller assessed this request as ${r} risk`,
      effect: r === "critical" ? "escalate" : "note",
      rule: "environment.caller_risk: the caller's risk assessment raises the assessed risk, never lowers it",
      step: "environment",
      phrase: `the caller rates it ${r} risk`,
    },
  ];
};
