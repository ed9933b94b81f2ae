import { type Clause, foldText, type Hit, Kind, tokens } from "../lexicon.js";
import { Memo } from "../memo.js";
import { checkApproval } from "./approval.js";
import type { Detector, Finding, SignalContext } from "./types.js";
import * as V from "./vocabulary.js";

/**
 * General detectors, one per kind of risk rather than per phrase. Each reads every free-text clause
 * (and, where the kind can hide there, the action name and the resource), in several languages, with
 * negation ("no failed deploys" is not a failure). Each only ever raises scrutiny.
 */

const SUPPRESSION = new Kind([V.SUPPRESS_VERBS, V.CONTROL_NOUNS]);
const BULK_EXPORT = new Kind([V.EXPORT_VERBS, V.BULK_WORDS, V.DATA_NOUNS]);
const PERSONAL_EXPORT = new Kind([V.EXPORT_VERBS, V.PERSONAL_DESTINATIONS]);
const DEPARTING = new Kind([V.DEPARTING]);
const PIPELINE = new Kind([V.TAMPER_VERBS, V.PIPELINE_NOUNS]);
const NEW_ACCOUNT = new Kind([V.NEW_OR_LINKED_ACCOUNT]);
const SELF_BENEFIT = new Kind([V.BENEFIT_WORDS, V.SELF_WORDS]);
const SELF_APPROVAL = new Kind([V.APPROVE_VERBS, V.OWN_WORK]);
const PROPAGATION = new Kind([V.PROPAGATION_WORDS, V.PRODUCTION_WORDS]);
const EMERGENCY = new Kind([V.EMERGENCY_WORDS]);
const FAILURE = new Kind([V.FAILURE_WORDS]);
const RISE = new Kind([V.RISE_WORDS, V.TRUST_NOUNS, V.FAST_WORDS]);
const RISK = new Kind([V.RISK_WORDS]);
const BENEFIT = new Kind([V.BENEFIT_WORDS]);

const quote = (h: Hit) => `${h.path}: "${h.clause.slice(0, 100)}"`;

function escalation(id: string, h: Hit, rule: string, phrase: string, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    severity: "warn",
    detail: `${quote(h)} (${h.terms.join(" + ")})`,
    effect: "escalate",
    rule,
    step: "context",
    phrase,
    suspicious: true,
    ...extra,
  };
}

/** Clauses of the action name and the resource: "mute_alerts" on "pagerduty/prod" reads as text too. */
function nameClauses(ctx: SignalContext): Clause[] {
  return nameMemo.get(`${ctx.action}\u0000${ctx.resource}`, () => {
    const out: Clause[] = [];
    const a = tokens(foldText(ctx.action.replace(/_/g, " ")));
    if (a.length) out.push({ path: "action_type", text: ctx.action, tokens: a });
    const r = tokens(foldText(ctx.resource));
    if (r.length) out.push({ path: "resource", text: ctx.resource, tokens: r });
    return out;
  });
}

const nameMemo = new Memo<Clause[]>(1024);

export const detectSuppression: Detector = (ctx) => {
  const h = SUPPRESSION.first(ctx.clauses) ?? SUPPRESSION.first(nameClauses(ctx));
  if (!h || ctx.actionClass === "read") return [];
  return [
    escalation(
      "monitoring_suppression",
      h,
      "context.suppression: silencing monitoring, alerts, audit or checks around a change needs a human",
      `the request would silence or weaken a control (${h.terms.join(" ")}), which hides what the change does`,
      { severity: ctx.critical ? "critical" : "warn" },
    ),
  ];
};

export const detectDataExfiltration: Detector = (ctx) => {
  const named = nameClauses(ctx);
  const all = [...ctx.clauses, ...named];
  const h = PERSONAL_EXPORT.first(all) ?? BULK_EXPORT.first(all);
  const leaving = DEPARTING.first(ctx.clauses);
  if (!h && !leaving) return [];
  if (!h && leaving && !(ctx.actionClass === "read" || /export|download|copy|dump|sync/.test(ctx.action)))
    return [];
  const hit = h ?? leaving!;
  return [
    escalation(
      "data_exfiltration",
      hit,
      "context.data_leaving: bulk exports, data sent to personal or outside destinations, or by someone leaving, need a human",
      leaving
        ? "a departing actor is moving data, a classic insider risk"
        : `data would leave in bulk or to a personal or outside destination (${hit.terms.join(" ")})`,
    ),
  ];
};

export const detectPipelineTampering: Detector = (ctx) => {
  if (ctx.actionClass === "read") return [];
  const h = PIPELINE.first(ctx.clauses);
  if (!h) return [];
  return [
    escalation(
      "pipeline_tampering",
      h,
      "context.supply_chain: weakening a build or release pipeline, or swapping a dependency, needs a human",
      `the change touches what builds and ships software (${h.terms.join(" ")}), a supply-chain risk`,
    ),
  ];
};

export const detectNewAccount: Detector = (ctx) => {
  const h = NEW_ACCOUNT.first(ctx.clauses);
  if (!h) return [];
  return [
    escalation(
      "new_or_linked_account",
      h,
      "context.accounts: a brand-new or linked account in the request is a sybil risk that needs a human",
      `a new or linked account is involved (${h.terms.join(" ")}), so its standing is not established`,
    ),
  ];
};

const TARGET_FIELDS =
  /^(target|target_user|target_actor|user|user_id|member|grantee|beneficiary|candidate|assignee|recipient|subject|payee|account)$/i;

function structuredSelfTarget(ctx: SignalContext): string | undefined {
  const me = ctx.s.actor_id.trim().toLowerCase();
  const look = (o: unknown, path: string): string | undefined => {
    if (typeof o !== "object" || o === null) return undefined;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "string" && TARGET_FIELDS.test(k) && v.trim().toLowerCase() === me)
        return `${path}${k}`;
    }
    return undefined;
  };
  return look(ctx.s, "") ?? look(ctx.s.details, "details.") ?? look(ctx.s.parameters, "parameters.");
}

export const detectSelfBenefit: Detector = (ctx) => {
  const out: Finding[] = [];
  const structural = structuredSelfTarget(ctx);
  const granting = ctx.actionClass !== "read";
  let h = granting ? SELF_BENEFIT.first(ctx.clauses) : undefined;
  if (!h && granting) {
    // The actor's own id in a clause that hands something out: "grant admin to user:bob" from user:bob.
    const me = foldText(ctx.s.actor_id.trim());
    const named = ctx.clauses.find((c) => me.length > 2 && c.text.includes(me));
    if (named) h = BENEFIT.inClause(named);
  }
  if (structural || h) {
    out.push({
      id: "self_benefit",
      severity: "warn",
      detail: structural
        ? `${structural} is the actor ${ctx.s.actor_id}`
        : `${quote(h!)} (${h!.terms.join(" + ")})`,
      effect: "escalate",
      rule: "context.self_benefit: an actor who is the beneficiary of their own grant or approval needs a human",
      step: "context",
      phrase: "the actor would benefit from their own action (the grant or approval is for themselves)",
      suspicious: true,
    });
  }
  const approval = checkApproval(ctx.s, ctx.doc, ctx.actionClass, ctx.instant);
  const self = SELF_APPROVAL.first(ctx.clauses);
  const selfApproved =
    approval.state === "invalid" && approval.approver?.toLowerCase() === ctx.s.actor_id.trim().toLowerCase();
  if (self || selfApproved) {
    out.push({
      id: "self_approval",
      severity: "warn",
      detail: selfApproved ? `${ctx.doc.approvals.field}.approver is the actor` : `${quote(self!)}`,
      effect: "escalate",
      rule: "context.self_approval: nobody approves their own work; a second person must",
      step: "context",
      phrase: "the actor approves their own work, which needs a second person",
      suspicious: true,
    });
  }
  return out;
};

export const detectPropagation: Detector = (ctx) => {
  if (ctx.actionClass !== "write") return [];
  const h = PROPAGATION.first(ctx.clauses);
  if (!h) return [];
  return [
    {
      id: "auto_deploy_production_impact",
      severity: "warn",
      detail: `${quote(h)}: this change reaches production without a deploy step`,
      effect: "escalate",
      rule: "context.hidden_deploy: a change rolled out to production automatically is treated as a production deploy",
      step: "context",
      phrase:
        "this change propagates to production or customers on its own, so it has an impact on production and counts as a production deploy",
      escalatesTo: "deploy",
    },
  ];
};

export const detectEmergencyClaim: Detector = (ctx) => {
  if (ctx.actionClass === "read") return [];
  const h = EMERGENCY.first(ctx.clauses);
  if (!h) return [];
  if (checkApproval(ctx.s, ctx.doc, ctx.actionClass, ctx.instant).state === "valid") return [];
  return [
    escalation(
      "emergency_without_oversight",
      h,
      "context.incident: an emergency stated in free text proves nothing and opens no break-glass; it calls for human oversight",
      "the request claims urgency in free text, which cannot loosen anything and calls for human oversight",
      { suspicious: false },
    ),
  ];
};

export const detectFailureHistory: Detector = (ctx) => {
  const h = FAILURE.first(ctx.clauses);
  if (!h) return [];
  const impactful =
    ctx.actionClass === "deploy" || ctx.actionClass === "admin" || ctx.production || ctx.critical;
  return [
    {
      id: "failure_history",
      severity: impactful ? "warn" : "info",
      detail: `${quote(h)} (${h.terms.join(" + ")})`,
      effect: impactful ? "escalate" : "note",
      rule: "context.recent_failures: failures or incidents before a high-impact change call for verification",
      step: "context",
      phrase: impactful
        ? "the history mentions failures or incidents, so this high-impact change needs verification"
        : "the history mentions a failure, noted for a low-impact change",
      suspicious: impactful,
    },
  ];
};

/**
 * "from 0.3 to 0.9", "from 30% up to 90 percent", read with blanks folded to single spaces: with `\s*`
 * and `\s+` side by side a run of blanks split between them in every way (quadratic backtracking).
 */
const FROM_TO = /from (\d{1,3}(?:\.\d+)?) ?(%|percent)? (?:to|up to|->|→) (\d{1,3}(?:\.\d+)?) ?(%|percent)?/;

export const detectRapidTrustRise: Detector = (ctx) => {
  for (const c of ctx.clauses) {
    if (
      !c.tokens.some((t) =>
        /^(trust|t3|score|reputation|rating|karma|confianza|vertrauen|confiance|fiducia)/.test(t),
      )
    )
      continue;
    const m = FROM_TO.exec(c.text.replace(/\s+/g, " "));
    if (m) {
      const scale = (v: string, pct?: string) => (pct || Number(v) > 1 ? Number(v) / 100 : Number(v));
      const a = scale(m[1]!, m[2]);
      const b = scale(m[3]!, m[4]);
      if (b - a >= 0.3) return [rise(`${c.path}: "${c.text.slice(0, 100)}" (+${(b - a).toFixed(2)})`)];
    }
  }
  const h = RISE.first(ctx.clauses);
  return h ? [rise(`${quote(h)}`)] : [];
};

const rise = (detail: string): Finding => ({
  id: "unreliable_trust",
  severity: "warn",
  detail: `trust rose abnormally fast: ${detail}`,
  effect: "escalate",
  rule: "trust.provenance: trust that rose abnormally fast is unreliable and cannot grant membership or privileges",
  step: "trust",
  phrase: "the trust scores are unreliable: they rose abnormally fast, faster than trust is earned",
  suspicious: true,
  unreliableTrust: true,
});

/** Risk words no detector placed: used by the engine to judge whether text is understood (never on its own). */
export function unplacedRiskWords(clauses: readonly Clause[]): Hit | undefined {
  return RISK.first(clauses);
}
