import type { ActionClass, PolicyDocument, ResourceRisk, RoleDef } from "../policy/schema.js";
import type { RiskLevel } from "../schemas/common.js";
import type { Reasoning } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import type { Outcome } from "./evaluate.js";
import { isHighRisk } from "./risk.js";
import type { Finding } from "./signals/types.js";
import type { EngineFacts } from "./types.js";

export interface ReasoningInput {
  s: Situation;
  doc: PolicyDocument;
  action: string;
  cls: ActionClass;
  effectiveClass: ActionClass;
  roleName: string;
  role: RoleDef | undefined;
  permitsNominal: boolean;
  resource: string;
  resources: readonly ResourceRisk[];
  risk: RiskLevel;
  inherentRisk: RiskLevel;
  trust: number;
  weakest: string;
  threshold: number;
  stated: number;
  band: EngineFacts["trustBand"];
  findings: Finding[];
  outcome: Outcome;
}

const article = (w: string) => (/^[aeiou]/.test(w) ? "an" : "a");
const f2 = (n: number) => n.toFixed(2);
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const list = (xs: string[]) =>
  xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;

function roleCheck(r: ReasoningInput): string {
  const actor = r.s.actor_id;
  if (!r.role) {
    return r.roleName
      ? `"${r.roleName}" is not a role in policy ${r.doc.id}, so ${actor} has no known role and an unknown role may do nothing.`
      : `${actor} has no role (none was sent and the actor directory lists none), so the role check fails closed.`;
  }
  const classes = r.role.classes.length ? list(r.role.classes) : "no";
  const what = `${r.action} is ${article(r.cls)} ${r.cls} action${r.cls === "admin" ? " (admin only)" : ""}`;
  if (!r.permitsNominal) {
    if (r.outcome.decision !== "deny") {
      return `Role ${r.roleName} may perform ${classes} actions but not ${r.cls} actions such as ${r.action}; during the active incident this is break-glass work that needs human sign-off.`;
    }
    return `Role ${r.roleName} may perform only ${classes} actions and ${what}, so the role is insufficient: insufficient role.`;
  }
  if (r.effectiveClass !== r.cls) {
    return `Role ${r.roleName} permits ${r.action}, ${article(r.cls)} ${r.cls} action, but its real effect is ${article(r.effectiveClass)} ${r.effectiveClass}, which role ${r.roleName} ${r.role.classes.includes(r.effectiveClass) ? "may also perform" : "may not perform"}.`;
  }
  return `Role ${r.roleName} permits ${r.action}, ${article(r.cls)} ${r.cls} action within the role.`;
}

function trustCheck(r: ReasoningInput): string {
  const t3 = r.s.t3_tensor;
  const scores = `competence ${f2(t3.competence)}, reliability ${f2(t3.reliability)}, integrity ${f2(t3.integrity)}`;
  const req = `the ${f2(r.threshold)} required for ${r.inherentRisk}-risk ${r.effectiveClass} actions${r.stated >= r.threshold && r.stated > 0 ? " (the team's stated threshold)" : ""}`;
  const lowest = `lowest ${r.weakest} ${f2(r.trust)}`;
  const unreliable = r.findings.find((f) => f.unreliableTrust);
  const tail = unreliable ? ` However, ${unreliable.phrase}.` : "";
  switch (r.band) {
    case "far_below":
      return `Trust (${scores}; ${lowest}) is far below ${req}: insufficient trust.${tail}`;
    case "borderline":
      return `Trust (${scores}; ${lowest}) falls just below ${req}, within the ${f2(r.doc.trust.borderlineBand)} borderline band: borderline trust.${tail}`;
    case "narrow":
      return `Trust (${scores}; ${lowest}) meets ${req}, but only narrowly (within ${f2(r.doc.trust.narrowMargin)}), a thin margin on a high-risk target.${tail}`;
    default: {
      const high = r.trust >= 0.9 ? "high baseline trust" : "sufficient trust";
      return `Trust (${scores}; ${lowest}) meets ${req}: ${high}.${tail}`;
    }
  }
}

function environment(r: ReasoningInput): string {
  const target = r.resource ? `The target ${r.resource}` : "The request names no target and";
  const labels = r.resources.map((x) => x.label ?? x.description);
  const riskWord = `${r.inherentRisk}-risk ${r.effectiveClass === "deploy" || r.resources.some((x) => x.production) ? "environment" : "action"}`;
  let s = labels.length
    ? `${target} is ${list(labels)}, so this is ${article(riskWord)} ${riskWord}`
    : `${target} matches no special resource class, so the ${r.effectiveClass} action carries its ${r.inherentRisk} base risk${isHighRisk(r.inherentRisk) ? " as a high-risk action" : ""}`;
  if (r.risk !== r.inherentRisk) s += `; exemplary automation lowers the assessed risk to ${r.risk}`;
  const env = r.findings.filter((f) => f.step === "environment");
  if (env.length) s += `; ${env.map((f) => f.phrase).join("; ")}`;
  return `${s}.`;
}

function context(r: ReasoningInput): string {
  const shown = r.findings.filter((f) => f.step === "context");
  const body = shown.length
    ? cap(shown.map((f) => f.phrase).join("; "))
    : "No context signal calls for verification";
  const end =
    r.outcome.decision === "allow"
      ? shown.length
        ? "nothing calls for verification, so allow"
        : "allow"
      : r.outcome.conclusion;
  return `${body}; ${end}.`;
}

/** One sentence per step of the four-step framework the reference validated. */
export function buildReasoning(r: ReasoningInput): Reasoning {
  return {
    roleCheck: roleCheck(r),
    trustCheck: trustCheck(r),
    environment: environment(r),
    context: context(r),
  };
}
