import type { Detector, Finding } from "./types.js";

const DESTRUCTIVE =
  /\b(delete|deleting|drop|dropping|truncat\w*|wipe|wiping|purg\w*|destroy\w*|rm -rf|mass[- ]delet\w*|force[- ]push\w*|disabl\w*|turn(ing)? off|switch(ing)? off|bypass\w*|suppress\w*|tamper\w*|overwrit\w*|erase|erasing)\b/;

/** Destructive or protection-removing work; on critical infrastructure it is what "suspicious" means. */
export const detectDestructive: Detector = (ctx) => {
  const subject = `${ctx.action.replace(/_/g, " ")} ${(typeof ctx.s.details === "string" ? ctx.s.details : "").toLowerCase()} ${ctx.texts
    .filter((t) => /description|intent|parameters/.test(t.path))
    .map((t) => t.lower)
    .join(" ")}`;
  const m = DESTRUCTIVE.exec(subject);
  if (!m || ctx.actionClass === "read") return [];
  const onCritical = ctx.critical;
  const f: Finding = {
    id: "destructive_change",
    severity: onCritical ? "critical" : ctx.production ? "warn" : "info",
    detail: `"${m[0]}" on ${ctx.resource || "the target"}`,
    effect: onCritical || ctx.production ? "escalate" : "note",
    rule: onCritical
      ? "environment.critical_infrastructure: removing or weakening protections on critical infrastructure is refused"
      : "environment.destructive: destructive changes to production need verification",
    step: "environment",
    phrase: `a destructive change ("${m[0]}")${onCritical ? " to critical infrastructure" : ctx.production ? " in production" : ""}`,
    suspicious: true,
  };
  return [f];
};

const STATED_THRESHOLD =
  /\b(?:requires?|needs?|mandates?|minimum(?: of)?|at least|threshold(?: of)?)\s*(?:a\s+)?(?:minimum\s+)?(?:trust\s+(?:score\s+)?(?:of\s+)?)?(0?\.\d+|1\.0+|\d{1,3}\s*%)\s*(?:\w+\s+){0,2}?(?:trust|t3)?\b([^.;]*)/;
const CLASS_WORDS: Record<string, RegExp> = {
  read: /\b(reads?|reading|view\w*)\b/,
  write: /\b(writes?|commits?|changes?|merges?|edits?)\b/,
  deploy: /\b(deploy\w*|releases?|rollbacks?|production changes?)\b/,
  admin: /\b(admin\w*|membership|permissions?|privileges?)\b/,
};

/** A trust threshold stated in the team context ("requires 0.8 trust for deploys"): it can only raise the policy's. */
export const detectStatedThreshold: Detector = (ctx) => {
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const s of t.sentences) {
      if (!/\btrust\b|\bt3\b/.test(s)) continue;
      const m = STATED_THRESHOLD.exec(s);
      if (!m?.[1]) continue;
      const raw = m[1].trim();
      const v = raw.endsWith("%") ? Number(raw.replace("%", "")) / 100 : Number(raw);
      if (!(v > 0 && v <= 1)) continue;
      // Scoped to another class ("for reads") when this is not one: not ours.
      const scope = Object.entries(CLASS_WORDS)
        .filter(([, re]) => re.test(s))
        .map(([c]) => c);
      if (scope.length && !scope.includes(ctx.actionClass)) continue;
      return [
        {
          id: "stated_trust_threshold",
          severity: "info",
          detail: `${t.path} states a trust threshold of ${v}`,
          effect: "note",
          rule: "trust.stated: a threshold stated by the team applies when it is stricter than the policy's",
          step: "trust",
          phrase: `the team requires trust of ${v}`,
          statedThreshold: v,
        },
      ];
    }
  }
  return [];
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
