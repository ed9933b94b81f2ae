import type { ActionClass, RoleDef } from "../policy/schema.js";
import type { DecisionValue, RiskLevel } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import { type CompiledPolicy, classifyAction, matchResources } from "./compiled.js";
import { Memo } from "./memo.js";
import { buildReasoning } from "./reasoning.js";
import { isHighRisk, lowerRisk, maxRisk, riskRank } from "./risk.js";
import { type Finding, runDetectors } from "./signals/index.js";
import { gatherTexts } from "./text.js";
import type { EngineFacts, EngineVerdict } from "./types.js";

const CLASS_RANK: Record<ActionClass, number> = { read: 0, write: 1, deploy: 2, admin: 3 };

/** "deployToProduction", "Update-Config" -> "deploy_to_production", "update_config". */
export function normaliseAction(type: string): string {
  return actionNames.get(type, (t) =>
    t
      .trim()
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/[\s\-.:/]+/g, "_")
      .toLowerCase(),
  );
}

const actionNames = new Memo<string>();

const rolePermits = (role: RoleDef, action: string, cls: ActionClass) =>
  !role.denyActions.includes(action) && (role.classes.includes(cls) || role.allowActions.includes(action));

/** Actions that hand out membership, roles or privileges. */
const GRANTS =
  /(grant|add_member|invite|approve_member|membership|admit|onboard|promote|elevat|assign_role|role|permission|privilege|access|vouch|endorse|certif)/;

/** The subset of signals that mean "ask the LLM" without being decisive for the rules. */
const CLEAR_NOTES = new Set(["stated_trust_threshold", "established_automation"]);

export interface Outcome {
  decision: DecisionValue;
  classification: string;
  /** Why, in words: ends the context sentence. */
  conclusion: string;
  hardDeny: boolean;
}

export function evaluate(cp: CompiledPolicy, s: Situation): EngineVerdict {
  const doc = cp.doc;
  const action = normaliseAction(s.action_type);
  const roleName = s.actor_role || doc.actors[s.actor_id] || "";
  const role = Object.hasOwn(doc.roles, roleName) ? doc.roles[roleName] : undefined;
  const { cls } = classifyAction(cp, action);
  const resource = s.resource ?? "";
  const resources = matchResources(cp, resource);
  let production = resources.some((r) => r.production);
  const critical = resources.some((r) => r.critical);
  const t3 = s.t3_tensor;
  const dims: Array<[string, number]> = [
    ["competence", t3.competence],
    ["reliability", t3.reliability],
    ["integrity", t3.integrity],
  ];
  const [weakest, trust] = dims.reduce((a, b) => (b[1] < a[1] ? b : a));
  const texts = gatherTexts(s);
  const allLower = texts
    .filter((t) => t.narrative)
    .map((t) => t.lower)
    .join(" ; ");
  const instant = s.timestamp ? new Date(s.timestamp) : undefined;

  const findings = runDetectors({
    s,
    doc,
    action,
    actionClass: cls,
    role,
    roleName,
    resource,
    resources,
    production,
    critical,
    trust,
    texts,
    allLower,
    instant,
  });

  // A write that reaches production on its own is a production deploy.
  const escalation = findings.find((f) => f.escalatesTo);
  const effectiveClass: ActionClass =
    escalation?.escalatesTo && CLASS_RANK[escalation.escalatesTo] > CLASS_RANK[cls]
      ? escalation.escalatesTo
      : cls;
  if (escalation) production = true;

  // Risk: the class's base risk, the resource's risk for that class, what the caller said, escalations.
  let risk: RiskLevel = maxRisk(
    doc.actionClasses[effectiveClass].baseRisk,
    ...resources.map((r) => r.risk[effectiveClass]),
  );
  if (escalation) risk = maxRisk(risk, "high");
  if (s.caller_risk_assessment) risk = maxRisk(risk, s.caller_risk_assessment);
  if (findings.some((f) => f.severity === "critical")) risk = "critical";
  const inherentRisk = risk;
  const mitigation = findings.find((f) => f.effect === "mitigate");
  if (mitigation && !production && !critical && riskRank(risk) < riskRank("high")) risk = lowerRisk(risk);

  const stated = Math.max(0, ...findings.map((f) => f.statedThreshold ?? 0));
  const threshold = Math.max(
    doc.actionClasses[effectiveClass].threshold,
    doc.trust.byRisk[inherentRisk],
    stated,
  );
  const band: EngineFacts["trustBand"] =
    trust < threshold - doc.trust.borderlineBand - 1e-9
      ? "far_below"
      : trust < threshold - 1e-9
        ? "borderline"
        : trust < threshold + doc.trust.narrowMargin - 1e-9 && isHighRisk(inherentRisk)
          ? "narrow"
          : "meets";

  const permitsNominal = role ? rolePermits(role, action, cls) : false;
  const permitsEffective = role ? rolePermits(role, action, effectiveClass) || effectiveClass === cls : false;
  const emergency = findings.find((f) => f.emergency);
  const escalating = findings.filter((f) => f.effect === "escalate" && !(f.escalatesTo && permitsEffective));
  const suspicious = findings.filter((f) => f.suspicious && f.severity !== "info");
  const unreliable = findings.find((f) => f.unreliableTrust);

  const outcome = decide({
    action,
    cls,
    effectiveClass,
    roleKnown: role !== undefined,
    roleName,
    permitsNominal,
    permitsEffective,
    breakGlass: Boolean(
      emergency &&
        !emergency.emergency?.oversight &&
        doc.emergency.breakGlassClasses.includes(cls) &&
        cls !== "admin",
    ),
    band,
    critical,
    suspicious,
    grants: effectiveClass === "admin" && GRANTS.test(action),
    unreliable,
    escalating,
    trust,
    mitigated: Boolean(mitigation && riskRank(risk) < riskRank(inherentRisk)),
    escalation,
  });

  const tier: Tier =
    effectiveClass === "deploy" ? (production ? "deploy_prod" : "deploy_nonprod") : (effectiveClass as Tier);

  const reasoning = buildReasoning({
    s,
    doc,
    action,
    cls,
    effectiveClass,
    roleName,
    role,
    permitsNominal,
    resource,
    resources,
    risk,
    inherentRisk,
    trust,
    weakest,
    threshold,
    stated,
    band,
    findings,
    outcome,
  });

  const policyReferences = references(cp, {
    roleName,
    role,
    cls,
    effectiveClass,
    risk: inherentRisk,
    threshold,
    resources,
    findings,
  });
  const signals = findings.map(({ id, severity, detail }) => ({ id, severity, detail }));
  const nuance = band === "borderline" || band === "narrow" || findings.some((f) => !CLEAR_NOTES.has(f.id));

  return {
    decision: outcome.decision,
    classification: outcome.classification,
    riskLevel: risk,
    reasoning,
    policyReferences,
    signals,
    tier,
    facts: {
      role: roleName || null,
      roleKnown: role !== undefined,
      rolePermits: permitsNominal,
      actionClass: cls,
      effectiveClass,
      resourceIds: resources.map((r) => r.id),
      production,
      critical,
      trust,
      threshold,
      trustBand: band,
      hardDeny: outcome.hardDeny,
      needsNuance: !outcome.hardDeny && nuance,
      confident: outcome.hardDeny || (outcome.decision === "allow" && !nuance),
    },
  };
}

interface DecideInput {
  action: string;
  cls: ActionClass;
  effectiveClass: ActionClass;
  roleKnown: boolean;
  roleName: string;
  permitsNominal: boolean;
  permitsEffective: boolean;
  breakGlass: boolean;
  band: EngineFacts["trustBand"];
  critical: boolean;
  suspicious: Finding[];
  grants: boolean;
  unreliable: Finding | undefined;
  escalating: Finding[];
  trust: number;
  mitigated: boolean;
  escalation: Finding | undefined;
}

/** The three tiers, in order of precedence: deny what the rules forbid, verify what is doubtful, allow the rest. */
function decide(i: DecideInput): Outcome {
  const deny = (classification: string, conclusion: string): Outcome => ({
    decision: "deny",
    classification,
    conclusion,
    hardDeny: true,
  });
  const attest = (classification: string, conclusion: string): Outcome => ({
    decision: "require_attestation",
    classification,
    conclusion,
    hardDeny: false,
  });

  if (!i.roleKnown) {
    return deny(
      i.roleName ? "unknown_role" : "no_known_role",
      "deny: an actor without a known role may do nothing",
    );
  }
  if (!i.permitsNominal) {
    if (i.breakGlass) {
      return attest(
        i.band === "meets" ? "emergency_action_outside_role" : "emergency_action_borderline_trust",
        "require attestation: emergency break-glass work needs human oversight before it runs",
      );
    }
    return deny(`unauthorized_${i.cls}_action`, `deny: the role is insufficient for ${i.cls} actions`);
  }
  if (i.band === "far_below") {
    return deny(
      `insufficient_trust_for_${i.effectiveClass}`,
      "deny: trust is far below what the risk requires",
    );
  }
  if (i.critical && i.effectiveClass !== "read" && i.suspicious.length > 0) {
    return deny(
      "suspicious_critical_infrastructure_change",
      "deny: a suspicious change to critical infrastructure is refused outright",
    );
  }
  if (i.unreliable && i.grants) {
    return deny(
      "unreliable_trust_for_privileges",
      "deny: trust inflated within a closed group cannot grant membership or privileges",
    );
  }
  if (!i.permitsEffective) {
    const config = /config|setting|flag/.test(i.action);
    return attest(
      config ? "config_change_with_deploy_impact" : "change_with_deploy_impact",
      `require attestation: a human with ${i.effectiveClass} rights should verify the production impact before it ships`,
    );
  }
  if (i.band === "borderline") {
    return attest(
      `borderline_${i.action}_trust`,
      "require attestation: attestation recommended, a human should confirm before the actor proceeds",
    );
  }
  if (i.escalating.length > 0) return attest(classifyEscalation(i), conclusionFor(i.escalating[0]!.id));
  if (i.mitigated)
    return {
      decision: "allow",
      classification: `automated_trusted_${i.action}`,
      conclusion: "allow",
      hardDeny: false,
    };
  return {
    decision: "allow",
    classification: i.cls === "read" ? "routine_read_access" : `routine_${i.action}`,
    conclusion: "allow",
    hardDeny: false,
  };
}

function classifyEscalation(i: DecideInput): string {
  const ids = new Set(i.escalating.map((f) => f.id));
  if (ids.has("embedded_instruction")) return "instruction_in_request_text";
  if (ids.has("emergency_without_oversight"))
    return i.band === "narrow" ? "emergency_action_borderline_trust" : "emergency_action_without_oversight";
  if (ids.has("identity_decline") || ids.has("recent_failures"))
    return i.trust >= 0.85 ? "high_trust_declining_performance" : "declining_performance";
  if (ids.has("off_hours_deviation")) return `unusual_timing_${i.action}`;
  if (ids.has("unreliable_trust")) return "unreliable_trust";
  if (ids.has("destructive_change")) return "destructive_production_change";
  if (ids.has("aggregate_near_limit")) return "aggregate_near_limit";
  if (ids.has("measurement_out_of_bounds") || ids.has("monitors_alerting") || ids.has("deviation_from_peers"))
    return "anomalous_measurements";
  return `${i.escalating[0]!.id}`;
}

function conclusionFor(id: string): string {
  switch (id) {
    case "off_hours_deviation":
      return "require attestation: additional verification of the actor's identity and intent is recommended";
    case "identity_decline":
    case "recent_failures":
      return "require attestation: investigate before allowing";
    case "emergency_without_oversight":
      return "require attestation: the action needs human oversight before it runs";
    case "embedded_instruction":
      return "require attestation: a human should read the request, since its text tries to steer the decision";
    default:
      return "require attestation: a human should verify before it proceeds";
  }
}

function references(
  cp: CompiledPolicy,
  r: {
    roleName: string;
    role: RoleDef | undefined;
    cls: ActionClass;
    effectiveClass: ActionClass;
    risk: RiskLevel;
    threshold: number;
    resources: ReturnType<typeof matchResources>;
    findings: Finding[];
  },
): string[] {
  const doc = cp.doc;
  // The sentences depend on the policy alone: built once per role, class, risk and resource.
  const ref = (key: string, build: () => string) => cp.memo.references.get(key, build);
  const out: string[] = [];
  out.push(
    r.role
      ? ref(`role|${r.roleName}`, () => {
          const role = r.role as RoleDef;
          return `role.${r.roleName}: ${r.roleName} may perform ${role.classes.join(", ") || "no"} actions${role.allowActions.length ? ` and ${role.allowActions.join(", ")}` : ""}`;
        })
      : "role.unknown: an actor without a known role may do nothing",
  );
  for (const c of r.cls === r.effectiveClass ? [r.cls] : [r.cls, r.effectiveClass]) {
    out.push(
      ref(`class|${c}`, () => {
        const def = doc.actionClasses[c];
        return `class.${c}: ${(def.description ?? c).replace(/\.$/, "")} (base risk ${def.baseRisk}, trust >= ${def.threshold})`;
      }),
    );
  }
  out.push(
    ref(
      `trust|${r.risk}`,
      () =>
        `trust.${r.risk}: ${r.risk}-risk actions need trust >= ${doc.trust.byRisk[r.risk]}; within ${doc.trust.borderlineBand} below is borderline`,
    ),
  );
  for (const res of r.resources)
    out.push(
      ref(
        `resource|${res.id}|${r.effectiveClass}`,
        () =>
          `resource.${res.id}: ${res.description} (${r.effectiveClass} risk ${res.risk[r.effectiveClass]})`,
      ),
    );
  for (const f of r.findings) if (!out.includes(f.rule)) out.push(f.rule);
  return out;
}
