import type { ActionClass, ResourceRisk, RoleDef } from "../policy/schema.js";
import type { DecisionValue, RiskLevel } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import { trimChar } from "../util/text.js";
import { foldName, normaliseName } from "../util/unicode.js";
import { CLASS_RANK, type CompiledPolicy, classifyAction, matchResources } from "./compiled.js";
import { type Clause, clauses } from "./lexicon.js";
import { Memo } from "./memo.js";
import { buildReasoning } from "./reasoning.js";
import { isHighRisk, lowerRisk, maxRisk, riskRank } from "./risk.js";
import { type Finding, runDetectors } from "./signals/index.js";
import { unplacedRiskWords } from "./signals/risk-kinds.js";
import { gatherTexts } from "./text.js";
import type { EngineFacts, EngineVerdict, Outcome } from "./types.js";

/**
 * "deployToProduction", "Update-Config", "ｄｅｌｅｔｅ_team", "de\u200blete" -> "deploy_to_production",
 * "update_config", "delete_team", "delete": look-alikes and invisibles folded, then camelCase and separators.
 */
export function normaliseAction(type: string): string {
  return actionNames.get(type, (t) => actionName(t).value);
}

function actionName(t: string): { value: string; alterations: string[] } {
  const f = foldName(t);
  // Underscores trimmed by a loop: /^_+|_+$/ rescans a long inner run of them from each start.
  const value = trimChar(
    f.value
      .trim()
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/[^\p{L}\p{N}]+/gu, "_"),
    "_",
  ).toLowerCase();
  return { value, alterations: f.alterations };
}

/** The directory's role for an actor: own entries only ("toString" names no actor). */
const directoryRole = (actors: Record<string, string>, id: string): string | undefined =>
  Object.hasOwn(actors, id) ? actors[id] : undefined;

const actionNames = new Memo<string>();
const actionAlterations = new Memo<string[]>();

const rolePermits = (role: RoleDef, action: string, cls: ActionClass) =>
  !role.denyActions.includes(action) && (role.classes.includes(cls) || role.allowActions.includes(action));

/** Actions that hand out membership, roles or privileges. */
const GRANTS =
  /(grant|add_member|invite|approve_member|membership|admit|onboard|promote|elevat|assign_role|role|permission|privilege|access|vouch|endorse|certif)/;

/**
 * Rules decisions that take longer than this fail closed. Matching is linear and fields are capped, so only
 * a pathological input on a starved machine gets near it; it is far above a GC pause or a cold start so
 * that load never changes a decision.
 */
export const ENGINE_BUDGET_MS = 1_000;

export function evaluate(cp: CompiledPolicy, s: Situation): EngineVerdict {
  const started = performance.now();
  const doc = cp.doc;
  const action = normaliseAction(s.action_type);
  const alteredAction = actionAlterations.get(s.action_type, (t) => actionName(t).alterations);
  const roleName = (s.actor_role || directoryRole(doc.actors, s.actor_id.trim()) || "").trim();
  const role = Object.hasOwn(doc.roles, roleName) ? doc.roles[roleName] : undefined;
  const match = classifyAction(cp, action);
  const rawResource = s.resource ?? "";
  const normResource = normaliseName(rawResource);
  const resource = normResource.value;
  // Riskiest reading of the target: the name as written, as normalised, and what the action name names.
  const rawLower = rawResource.toLowerCase();
  const resources = uniqueResources([
    ...(rawLower === resource ? [] : matchResources(cp, rawLower)),
    ...matchResources(cp, resource),
    ...matchResources(cp, action),
  ]);
  let cls: ActionClass = match.cls;
  // A change to something that grants roles or permissions is administration, whatever it is called.
  if (cls !== "read") {
    for (const r of resources)
      if (r.changesAs && CLASS_RANK[r.changesAs] > CLASS_RANK[cls]) cls = r.changesAs;
  }
  let production = resources.some((r) => r.production);
  const critical = resources.some((r) => r.critical);
  const t3 = s.t3_tensor;
  const dims: Array<[string, number]> = [
    ["competence", t3.competence],
    ["reliability", t3.reliability],
    ["integrity", t3.integrity],
  ];
  const [weakest, trust] = dims.reduce((a, b) => (b[1] < a[1] ? b : a));
  const texts = gatherTexts(s, doc);
  const allLower = texts
    .filter((t) => t.narrative)
    .map((t) => t.lower)
    .join(" ; ");
  const textClauses: Clause[] = texts.flatMap((t) => clauses(t.path, t.text));
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
    clauses: textClauses,
    instant,
  });
  const altered = [
    ...alteredAction.map((a) => `action_type has ${a}`),
    ...normResource.alterations.map((a) => `resource has ${a}`),
  ];
  if (altered.length) {
    findings.push({
      id: "obfuscated_name",
      severity: "warn",
      detail: `${altered.join("; ")}; matched as "${action}"${resource ? ` on "${resource}"` : ""}`,
      effect: "escalate",
      rule: "environment.names: a name written with invisible or look-alike characters is read as normalised and needs a human",
      step: "environment",
      phrase: "a name in the request hides its real spelling behind invisible or look-alike characters",
      suspicious: true,
    });
  }

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

  // Least privilege by resource: the strictest limit of any target the role may not touch freely.
  const limits = role
    ? resources
        .map((r) => ({ id: r.id, limit: role.resourceLimits[r.id] }))
        .filter((x): x is { id: string; limit: "deny" | "attest" } => x.limit !== undefined)
    : [];
  const resourceLimit = limits.find((l) => l.limit === "deny") ?? limits[0];

  // What the rules could not account for. At high and critical risk any free text or unknown field; at
  // lower risk, risk words that no detector placed. A compound action name is uncertain at any risk.
  const handling = doc.uncertain[inherentRisk];
  const placed = escalating.length > 0;
  const riskWords = placed ? undefined : unplacedRiskWords(textClauses);
  const unexplained: string[] = [];
  if (!placed) {
    if (isHighRisk(inherentRisk)) unexplained.push(...new Set(texts.map((t) => t.path.split(/[.[]/)[0]!)));
    else if (riskWords) unexplained.push(`${riskWords.path} ("${riskWords.terms.join(", ")}")`);
    if (match.compound) unexplained.push(`action_type "${action}" names several actions`);
    else if (!match.matched) unexplained.push(`action_type "${action}" is not a known action`);
  }
  const uncertain = unexplained.length > 0 && handling !== "allow";

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
        cls !== "admin" &&
        trust >= doc.emergency.minTrust,
    ),
    band,
    critical,
    suspicious,
    grants: effectiveClass === "admin" && (GRANTS.test(action) || match.privileged),
    unreliable,
    escalating,
    trust,
    mitigated: Boolean(mitigation && riskRank(risk) < riskRank(inherentRisk)),
    escalation,
    resourceLimit,
    uncertain: uncertain ? unexplained : undefined,
    overBudget: performance.now() - started > ENGINE_BUDGET_MS,
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
  if (outcome.classification === "uncertain_request")
    policyReferences.push(
      `uncertain.${inherentRisk}: a ${inherentRisk}-risk request the rules cannot fully account for is ${handling === "attest" ? "attested" : "sent to the interpreter (attested by the rules alone)"}`,
    );
  if (resourceLimit)
    policyReferences.push(
      `role.${roleName}.resourceLimits.${resourceLimit.id}: ${resourceLimit.limit === "deny" ? "refused" : "only with attestation"} for this role`,
    );
  const signals = findings.map(({ id, severity, detail }) => ({ id, severity, detail }));
  const attestation = outcome.decision === "require_attestation";
  // The interpreter may turn the rules' attestation into allow only where the rules were merely unsure:
  // never over an escalating or suspicious signal, a trust shortfall, a resource limit, administration, a
  // critical target, high or critical risk, or an unknown or compound action.
  const relaxable =
    attestation &&
    !outcome.hardDeny &&
    // Only what the rules could not read is the interpreter's to judge; a trust shortfall is a rule.
    outcome.classification === "uncertain_request" &&
    escalating.length === 0 &&
    suspicious.length === 0 &&
    !resourceLimit &&
    effectiveClass !== "admin" &&
    !critical &&
    // The guard rail of old: an attestation at high or critical risk is never relaxed by advice.
    !isHighRisk(inherentRisk) &&
    handling !== "attest" &&
    // Compound and unknown action names fail closed: no answer of the model's reads them for us.
    match.matched &&
    !match.compound;

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
      // Unsure: anything short of a clean allow or a hard deny goes to the interpreter in hybrid.
      needsNuance: !outcome.hardDeny && (attestation || uncertain),
      confident: outcome.hardDeny || (outcome.decision === "allow" && !uncertain),
      uncertain,
      unexplained,
      relaxable,
    },
  };
}

function uniqueResources(list: readonly ResourceRisk[]): readonly ResourceRisk[] {
  return list.length <= 1 ? list : [...new Set(list)];
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
  resourceLimit: { id: string; limit: "deny" | "attest" } | undefined;
  /** What the rules could not account for, when that leaves the request uncertain. */
  uncertain: string[] | undefined;
  overBudget: boolean;
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

  if (i.overBudget) {
    return attest(
      "engine_time_budget_exceeded",
      `require attestation: the rules took longer than their ${ENGINE_BUDGET_MS} ms budget, so the request fails closed`,
    );
  }
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
  if (i.resourceLimit?.limit === "deny") {
    return deny(
      `restricted_resource_${i.resourceLimit.id}`,
      `deny: role ${i.roleName} may not touch ${i.resourceLimit.id.replace(/_/g, " ")} (least privilege)`,
    );
  }
  if (i.band === "far_below") {
    return deny(
      `insufficient_trust_for_${i.effectiveClass}`,
      "deny: trust is far below what the risk requires",
    );
  }
  if (i.unreliable && i.grants) {
    return deny(
      "unreliable_trust_for_privileges",
      "deny: trust inflated within a closed group cannot grant membership or privileges",
    );
  }
  if (i.critical && i.effectiveClass !== "read" && i.suspicious.length > 0) {
    return deny(
      "suspicious_critical_infrastructure_change",
      "deny: a suspicious change to critical infrastructure is refused outright",
    );
  }
  if (!i.permitsEffective) {
    const config = /config|setting|flag/.test(i.action);
    return attest(
      config ? "config_change_with_deploy_impact" : "change_with_deploy_impact",
      `require attestation: a human with ${i.effectiveClass} rights should verify what it does to production before it ships`,
    );
  }
  if (i.band === "borderline") {
    return attest(
      `borderline_${i.action}_trust`,
      "require attestation: a human's confirmation is recommended before the actor proceeds",
    );
  }
  if (i.escalating.length > 0) return attest(classifyEscalation(i), conclusionFor(i.escalating[0]!.id));
  if (i.resourceLimit) {
    return attest(
      `restricted_resource_${i.resourceLimit.id}`,
      `require attestation: role ${i.roleName} touches ${i.resourceLimit.id.replace(/_/g, " ")} only with a human's attestation`,
    );
  }
  if (i.uncertain) {
    return attest(
      "uncertain_request",
      `require attestation: allow needs positive evidence, and the rules cannot account for ${i.uncertain.join("; ")}`,
    );
  }
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
  if (ids.has("obfuscated_name")) return "obfuscated_name";
  if (ids.has("self_approval")) return "self_approval";
  if (ids.has("self_benefit")) return "self_benefit";
  if (ids.has("data_exfiltration")) return "possible_data_exfiltration";
  if (ids.has("monitoring_suppression")) return "monitoring_suppression";
  if (ids.has("pipeline_tampering")) return "pipeline_tampering";
  if (ids.has("new_or_linked_account")) return "new_or_linked_account";
  if (ids.has("emergency_without_oversight"))
    return i.band === "narrow" ? "emergency_action_borderline_trust" : "emergency_action_without_oversight";
  if (ids.has("identity_decline") || ids.has("recent_failures") || ids.has("failure_history"))
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
      return "require attestation: further verification of the actor's identity and intent is recommended";
    case "identity_decline":
    case "recent_failures":
      return "require attestation: to be investigated before it is allowed";
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
