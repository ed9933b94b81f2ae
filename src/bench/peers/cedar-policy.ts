import type { DecisionValue } from "../../schemas/common.js";
import type { Situation } from "./requests.js";

/**
 * data/policies/default.yaml written as a Cedar policy set, for the benchmark requests (src/bench/peers/
 * requests.ts); the bench checks it decides each of them as our rules engine does before it times anything.
 *
 * The same structure as the Cerbos policy (cerbos-policy.ts): a permit per role and action class, permits
 * whose id starts with "attest" for what needs a human (borderline trust, an escalating signal, break-glass
 * during an incident, a role limit that attests, a write that auto-deploys for a role without deploy
 * rights), and forbids for what the rules refuse (trust far below the threshold, a role limit that denies).
 * The decision: deny when Cedar denies; require_attestation when it allows and an "attest" policy is among
 * the reasons; allow otherwise.
 *
 * What Cedar cannot say, and how this set says it instead (all exact for the benchmark requests):
 * - No regular expressions and no case folding: resource and text patterns are `like` globs on the
 *   lowercase names and phrases the requests use.
 * - No decimals without the decimal extension: trust and coherence go in as whole hundredths (Long).
 * - No time zones and no weekday: working hours are 9-17 at New York's winter offset (UTC-5), which is
 *   right for the February timestamps of the requests, and the weekend is not checked.
 * - No variables: the risk and threshold expressions are repeated inline (generated below).
 */

const READ = ["read", "view", "get", "list", "list_files", "search", "browse", "download", "fetch", "query"];
const MEMBER_EXTRAS = ["comment", "react", "create_issue"];
const WRITE = ["write", "commit", "push", "merge", "merge_pr", "update", "update_config", "edit", "create"];
const DEPLOY = ["deploy", "redeploy", "release", "rollback", "database_rollback", "migrate", "restart"];
const ADMIN = ["delete", "delete_team", "destroy", "drop", "purge", "grant", "grant_permission", "revoke"];
const INCIDENT_ACTIVE = [
  "sev0",
  "sev1",
  "sev2",
  "p0",
  "p1",
  "critical",
  "major",
  "active",
  "ongoing",
  "declared",
];

const actions = (names: readonly string[]) => `[${names.map((n) => `Action::"${n}"`).join(", ")}]`;
const roles = (names: readonly string[]) => `[${names.map((n) => `Role::"${n}"`).join(", ")}]`;
const anyLike = (expr: string, globs: readonly string[]) =>
  `(${globs.map((g) => `${expr} like "${g}"`).join(" || ")})`;

const target = "resource.name";
const SECRETS = anyLike(target, [
  "*secret*",
  "*credential*",
  "*passw*",
  "*api_key*",
  "*api-key*",
  "*apikey*",
  "*private_key*",
  "*token*",
  "*vault*",
  "*.env",
  "*keystore*",
  "*kms*",
]);
const ACCESS_CONTROL = anyLike(target, [
  "*codeowners*",
  "*rbac*",
  "*iam*",
  "*role*",
  "*permission*",
  "*sudoers*",
  "*acl*",
  "*access_control*",
  "*membership*",
]);
const CRITICAL_INFRA = anyLike(target, [
  "*audit*",
  "*auth*",
  "*login*",
  "*sso*",
  "*mfa*",
  "*firewall*",
  "*monitor*",
  "*alert*",
  "*logging*",
]);
const CUSTOMER_DATA = anyLike(target, [
  "*customer*",
  "*pii*",
  "*gdpr*",
  "*user_data*",
  "*crm*",
  "*billing*",
  "*payment*",
  "*payroll*",
  "*salar*",
]);
const BUILD_PIPELINE = anyLike(target, [
  "*.github/workflows*",
  "*jenkinsfile*",
  "*gitlab-ci*",
  "*pipeline*",
  "*package.json",
  "*package-lock.json",
  "*dockerfile*",
  "*makefile*",
]);
const PRODUCTION = anyLike(target, [
  "prod*",
  "*:prod*",
  "*/prod*",
  "*production*",
  "*-prod*",
  "*_prod*",
  "*live*",
]);
const CRITICAL = `(${SECRETS} || ${ACCESS_CONTROL} || ${CRITICAL_INFRA})`;
const LIMITED = `(${SECRETS} || ${CUSTOMER_DATA})`;
const text = (field: string) => `(context has ${field} && context.${field} like "*auto-deploy*")`;
const AUTO_DEPLOY = `(${text("team_context")} || ${text("details")})`;

// The weakest of the three trust dimensions, in hundredths.
const T = "principal.t3";
const TRUST = `(if ${T}.competence < ${T}.reliability then (if ${T}.competence < ${T}.integrity then ${T}.competence else ${T}.integrity) else (if ${T}.reliability < ${T}.integrity then ${T}.reliability else ${T}.integrity))`;

// trust.byRisk in hundredths, for a risk rank 0..3 (low..critical).
const byRisk = (rank: string) =>
  `(if ${rank} == 3 then 85 else if ${rank} == 2 then 70 else if ${rank} == 1 then 50 else 30)`;
const RISK_READ = `(if ${SECRETS} || ${CUSTOMER_DATA} then 2 else if ${ACCESS_CONTROL} || ${CRITICAL_INFRA} || ${PRODUCTION} then 1 else 0)`;
const RISK_WRITE = `(if ${CRITICAL} then 3 else if ${CUSTOMER_DATA} || ${BUILD_PIPELINE} || ${PRODUCTION} then 2 else 1)`;
const RISK_DEPLOY = `(if ${CRITICAL} then 3 else if ${CUSTOMER_DATA} || ${BUILD_PIPELINE} || ${PRODUCTION} || ${AUTO_DEPLOY} then 2 else 1)`;
const RISK_ADMIN = `(if ${CRITICAL} || ${CUSTOMER_DATA} || ${BUILD_PIPELINE} then 3 else 2)`;
const atLeast = (floor: number, expr: string) => `(if ${expr} > ${floor} then ${expr} else ${floor})`;
const THRESHOLD = {
  read: byRisk(RISK_READ),
  // A write that deploys itself to production is judged as the deploy it is.
  write: `(if ${AUTO_DEPLOY} then ${byRisk(RISK_DEPLOY)} else ${byRisk(RISK_WRITE)})`,
  deploy: atLeast(60, byRisk(RISK_DEPLOY)),
  admin: atLeast(80, byRisk(RISK_ADMIN)),
};

const HISTORY = "principal.recent_history";
const OFF_HOURS = `(context has timestamp && (datetime(context.timestamp).offset(duration("-5h")).toTime() < duration("9h") || datetime(context.timestamp).offset(duration("-5h")).toTime() >= duration("17h")) && principal has recent_history && (${HISTORY} like "*never*outside*" || ${HISTORY} like "*never*after*" || ${HISTORY} like "*rarely*outside*"))`;
const IDENTITY_DECLINE = "(principal has coherence && principal.coherence < 70)";
const RECENT_FAILURES = `(principal has recent_history && (${HISTORY} like "*fail*" || ${HISTORY} like "*rolled back*" || ${HISTORY} like "*rollback*"))`;
const INCIDENT = `(context has incident_status && ${JSON.stringify(INCIDENT_ACTIVE).replace(/,/g, ", ")}.contains(context.incident_status))`;
const ESCALATE = `(${OFF_HOURS} || ${IDENTITY_DECLINE} || ${RECENT_FAILURES} || ${INCIDENT})`;

const READERS = ["member", "developer", "deployer", "admin", "ci_bot"];
const WRITERS = ["developer", "deployer", "admin", "ci_bot"];
const DEPLOYERS = ["deployer", "admin", "ci_bot"];
const LIMITED_ROLES = ["developer", "deployer", "ci_bot"];

const permit = (acts: readonly string[], who: readonly string[], when?: string) =>
  `permit (principal, action in ${actions(acts)}, resource) when { principal in ${roles(who)}${when ? ` && ${when}` : ""} };`;
const forbid = (acts: readonly string[], who: readonly string[], when: string) =>
  `forbid (principal, action in ${actions(acts)}, resource) when { principal in ${roles(who)} && ${when} };`;

/** The policy set, by policy id (ids that start with "attest" mark an allow that needs attestation). */
export const CEDAR_POLICIES: Record<string, string> = {
  "read-by-role": permit(READ, READERS),
  "member-extras": permit(MEMBER_EXTRAS, ["member"]),
  "write-by-role": permit(WRITE, WRITERS),
  "deploy-by-role": permit(DEPLOY, DEPLOYERS),
  "admin-by-role": permit(ADMIN, ["admin"]),
  "attest-break-glass-write": permit(WRITE, ["member"], `${INCIDENT} && ${TRUST} >= 50`),
  "attest-break-glass-deploy": permit(DEPLOY, ["member", "developer"], `${INCIDENT} && ${TRUST} >= 50`),
  "member-restricted-resources": forbid([...READ, ...MEMBER_EXTRAS], ["member"], LIMITED),
  "read-trust-far-below": forbid(READ, READERS, `${TRUST} < ${THRESHOLD.read} - 10`),
  "write-trust-far-below": forbid(WRITE, WRITERS, `${TRUST} < ${THRESHOLD.write} - 10`),
  "deploy-trust-far-below": forbid(DEPLOY, DEPLOYERS, `${TRUST} < ${THRESHOLD.deploy} - 10`),
  "admin-trust-far-below": forbid(ADMIN, ["admin"], `${TRUST} < ${THRESHOLD.admin} - 10`),
  "attest-read": permit(READ, READERS, `(${TRUST} < ${THRESHOLD.read} || ${ESCALATE})`),
  "attest-write": permit(
    WRITE,
    WRITERS,
    `(${TRUST} < ${THRESHOLD.write} || ${ESCALATE} || (${AUTO_DEPLOY} && principal in Role::"developer"))`,
  ),
  "attest-deploy": permit(DEPLOY, DEPLOYERS, `(${TRUST} < ${THRESHOLD.deploy} || ${ESCALATE})`),
  "attest-admin": permit(ADMIN, ["admin"], `(${TRUST} < ${THRESHOLD.admin} || ${ESCALATE})`),
  "attest-restricted-resources": permit([...READ, ...WRITE, ...DEPLOY], LIMITED_ROLES, LIMITED),
};

/** Cedar's request for one situation: the entities carry the attributes, the context the request's facts. */
export interface CedarCall {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, string>;
  entities: Array<{
    uid: { type: string; id: string };
    attrs: Record<string, unknown>;
    parents: Array<{ type: string; id: string }>;
  }>;
}

const hundredths = (x: number) => Math.round(x * 100);

export function toCedarCall(s: Situation): CedarCall {
  const principal = { type: "User", id: s.actor_id };
  const resource = { type: "Target", id: s.resource ?? "" };
  const attrs: Record<string, unknown> = {
    t3: {
      competence: hundredths(s.t3_tensor.competence),
      reliability: hundredths(s.t3_tensor.reliability),
      integrity: hundredths(s.t3_tensor.integrity),
    },
  };
  if (typeof s.recent_history === "string") attrs.recent_history = s.recent_history;
  if (typeof s.identity_metrics?.coherence === "number")
    attrs.coherence = hundredths(s.identity_metrics.coherence);
  const context: Record<string, string> = {};
  for (const k of ["team_context", "details", "incident_status", "timestamp"] as const) {
    const v = s[k];
    if (typeof v === "string") context[k] = v;
  }
  return {
    principal,
    action: { type: "Action", id: s.action_type },
    resource,
    context,
    entities: [
      { uid: principal, attrs, parents: s.actor_role ? [{ type: "Role", id: s.actor_role }] : [] },
      { uid: resource, attrs: { name: s.resource ?? "" }, parents: [] },
    ],
  };
}

/** Cedar's answer as one of our three decisions. */
export function cedarDecision(decision: string, reasons: readonly string[]): DecisionValue {
  if (decision !== "allow") return "deny";
  return reasons.some((id) => id.startsWith("attest")) ? "require_attestation" : "allow";
}
