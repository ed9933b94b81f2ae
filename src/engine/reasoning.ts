import type { ActionClass, PolicyDocument, ResourceRisk, RoleDef } from "../policy/schema.js";
import type { RiskLevel } from "../schemas/common.js";
import type { Reasoning } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import { isHighRisk } from "./risk.js";
import type { Finding } from "./signals/types.js";
import type { EngineFacts, Outcome } from "./types.js";

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
  const what = `${r.action} belongs to the ${r.cls} class${r.cls === "admin" ? " (reserved for administrators)" : ""}`;
  if (!r.permitsNominal) {
    if (r.outcome.decision !== "deny") {
      return `Role ${r.roleName} may perform ${classes} actions but not ${r.cls} actions such as ${r.action}; during the active incident this is break-glass work that needs human sign-off.`;
    }
    return `Role ${r.roleName} may perform only ${classes} actions and ${what}, so the role does not suffice for it.`;
  }
  if (r.effectiveClass !== r.cls) {
    return `Role ${r.roleName} permits ${r.action}, of the ${r.cls} class, but its real effect falls in the ${r.effectiveClass} class, which role ${r.roleName} ${r.role.classes.includes(r.effectiveClass) ? "may also perform" : "may not perform"}.`;
  }
  return `Role ${r.roleName} permits ${r.action}, of the ${r.cls} class, within the role.`;
}

function trustCheck(r: ReasoningInput): string {
  const t3 = r.s.t3_tensor;
  const scores = `competence ${f2(t3.competence)}, reliability ${f2(t3.reliability)}, integrity ${f2(t3.integrity)}`;
  const req = `the ${f2(r.threshold)} required at ${r.inherentRisk} risk for the ${r.effectiveClass} class${r.stated >= r.threshold && r.stated > 0 ? " (the team's stated threshold)" : ""}`;
  const lowest = `lowest ${r.weakest} ${f2(r.trust)}`;
  const unreliable = r.findings.find((f) => f.unreliableTrust);
  const tail = unreliable ? ` However, ${unreliable.phrase}.` : "";
  switch (r.band) {
    case "far_below":
      return `Trust (${scores}; ${lowest}) is far below ${req}: the trust is not enough.${tail}`;
    case "borderline":
      return `Trust (${scores}; ${lowest}) falls just short of ${req}, inside the ${f2(r.doc.trust.borderlineBand)} borderline band.${tail}`;
    case "narrow":
      return r.outcome.decision === "allow"
        ? `Trust (${scores}; ${lowest}) meets ${req}, but only narrowly (within ${f2(r.doc.trust.narrowMargin)}), a thin margin on a high-risk target.${tail}`
        : `Trust (${scores}; ${lowest}) meets ${req} only narrowly (within ${f2(r.doc.trust.narrowMargin)}): it lacks the margin to act alone on a high-risk target.${tail}`;
    default: {
      const high = r.trust >= 0.9 ? "a historically high level of trust" : "enough for the action";
      return `Trust (${scores}; ${lowest}) meets ${req}: ${high}.${tail}`;
    }
  }
}

function environment(r: ReasoningInput): string {
  const target = r.resource ? `The target ${r.resource}` : "The request names no target and";
  const labels = r.resources.map((x) => x.label ?? x.description);
  const where =
    r.effectiveClass === "deploy" || r.resources.some((x) => x.production) ? "environment" : "action";
  let s = labels.length
    ? `${target} is ${list(labels)}, so the ${where} carries ${r.inherentRisk} risk`
    : `${target} matches no special resource class, so the action (${r.effectiveClass} class) carries its ${r.inherentRisk} base risk${isHighRisk(r.inherentRisk) ? ", a high risk for the action" : ""}`;
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
