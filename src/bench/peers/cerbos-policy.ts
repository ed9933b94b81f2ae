import type { DecisionValue } from "../../schemas/common.js";
import type { Situation } from "./requests.js";

/**
 * data/policies/default.yaml written as a Cerbos resource policy, for the benchmark requests (src/bench/
 * peers/requests.ts); the bench writes it to the directory Cerbos loads and checks that Cerbos decides each
 * request as our rules engine does before it times anything.
 *
 * Cerbos has two effects, so the three decisions are: deny when Cerbos denies; require_attestation when it
 * allows and a rule that fired outputs "require_attestation"; allow otherwise. The rules: an allow per role
 * and action class (roles and classes as in default.yaml), an attesting allow for what needs a human
 * (borderline trust, an escalating signal, break-glass during an incident, a role limit that attests, a
 * write that auto-deploys for a role without deploy rights) and a deny for what the rules refuse (trust far
 * below the threshold, a role limit that denies). Deny wins over allow in Cerbos, as in our engine.
 *
 * The variables carry default.yaml's resource patterns (its regular expressions as written), its risk table,
 * trust thresholds and borderline band, its working hours in America/New_York and its incident values. Our
 * engine reads free text with a much larger vocabulary; here a few regular expressions stand in for it
 * (auto-deploy, a strict history, failures), which is exact for the benchmark requests.
 */
export const CERBOS_POLICY = String.raw`---
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: action_target
  version: default
  constants:
    local:
      byRisk: [0.3, 0.5, 0.7, 0.85]
      incidentActive: [sev0, sev1, sev2, p0, p1, critical, major, active, ongoing, declared]
  variables:
    local:
      trust: >-
        P.attr.t3.competence < P.attr.t3.reliability
        ? (P.attr.t3.competence < P.attr.t3.integrity ? P.attr.t3.competence : P.attr.t3.integrity)
        : (P.attr.t3.reliability < P.attr.t3.integrity ? P.attr.t3.reliability : P.attr.t3.integrity)
      target: R.id.lowerAscii()
      secrets: >-
        V.target.matches(r'secret|credential|passw|api[_-]?key|private[_-]?key|(^|[^a-z])tokens?($|[^a-z])|vault|(^|/)\.env($|\.)|keystore|(^|[^a-z])certs?($|[^a-z])|kms|(^|[^a-z])ssh($|[^a-z])|(^|[^a-z])pem($|[^a-z])')
      accessControl: >-
        V.target.matches(r'codeowners|(^|[^a-z])owners($|[^a-z])|rbac|(^|[^a-z])iam($|[^a-z])|role[_-]?bindings?|cluster[_-]?roles?|(^|[^a-z])roles?($|[^a-z])|permissions?|sudoers|(^|[^a-z])acls?($|[^a-z])|access[_-]?control|branch[_-]?protection|(^|[^a-z])admins?($|[^a-z])|memberships?|(^|[^a-z])groups?($|[^a-z])')
      criticalInfra: >-
        V.target.matches(r'audit|(^|[^a-z])(o?auth|authn|authz|authentication|authorization)($|[^a-z])|login|(^|[^a-z])(sso|iam|rbac|mfa|2fa|ldap|saml|oidc)($|[^a-z])|firewall|monitor|alert|siem|logging|(^|[^a-z])waf($|[^a-z])')
      customerData: >-
        V.target.matches(r'customer|(^|[^a-z])(pii|gdpr|personal[_-]?data)($|[^a-z])|(^|[^a-z])users?[_-]?(data|table|db|records|export)|crm|billing|payment|payroll|(^|[^a-z])hr($|[^a-z])|salar')
      buildPipeline: >-
        V.target.matches(r'(^|/)\.github/workflows|workflows?/|jenkinsfile|gitlab-ci|circleci|buildkite|(^|[^a-z])pipelines?($|[^a-z])|(^|[^a-z])ci[_/.-]|package(-lock)?\.json|requirements\.txt|(^|/)go\.(mod|sum)|cargo\.(toml|lock)|yarn\.lock|pnpm-lock|gemfile|dockerfile|makefile|build\.gradle|pom\.xml|dependabot|renovate')
      production: V.target.matches(r'(^|[^a-z])(prod|production|prd|live)($|[^a-z])')
      staging: >-
        V.target.matches(r'staging|(^|[^a-z])(stage|preprod|pre-prod|qa|dev|development|sandbox|test|testing|preview|uat)($|[^a-z])')
      critical: V.secrets || V.accessControl || V.criticalInfra
      narrative: >-
        ((has(R.attr.team_context) ? R.attr.team_context : "") + " ; " + (has(R.attr.details) ? R.attr.details : "")).lowerAscii()
      history: >-
        (has(P.attr.recent_history) ? P.attr.recent_history : "").lowerAscii()
      autoDeploy: V.narrative.matches(r'auto[- ]?deploy')
      riskRead: "V.secrets || V.customerData ? 2 : (V.accessControl || V.criticalInfra || V.production ? 1 : 0)"
      riskWrite: "V.critical ? 3 : (V.customerData || V.buildPipeline || V.production ? 2 : 1)"
      riskDeploy: "V.critical ? 3 : (V.customerData || V.buildPipeline || V.production || V.autoDeploy ? 2 : 1)"
      riskAdmin: "V.critical || V.customerData || V.buildPipeline ? 3 : 2"
      thresholdRead: C.byRisk[V.riskRead]
      thresholdWrite: "V.autoDeploy ? C.byRisk[V.riskDeploy] : C.byRisk[V.riskWrite]"
      thresholdDeploy: "C.byRisk[V.riskDeploy] > 0.6 ? C.byRisk[V.riskDeploy] : 0.6"
      thresholdAdmin: "C.byRisk[V.riskAdmin] > 0.8 ? C.byRisk[V.riskAdmin] : 0.8"
      offHours: >-
        has(R.attr.timestamp)
        && (timestamp(R.attr.timestamp).getHours("America/New_York") < 9
            || timestamp(R.attr.timestamp).getHours("America/New_York") >= 17
            || timestamp(R.attr.timestamp).getDayOfWeek("America/New_York") == 0
            || timestamp(R.attr.timestamp).getDayOfWeek("America/New_York") == 6)
        && V.history.matches(r'\b(never|rarely|seldom)\b[^.;]{0,40}\b(outside|after|before|at night|late|weekends?|off[- ]hours|evenings?|early)\b')
      identityDecline: has(P.attr.identity_metrics) && has(P.attr.identity_metrics.coherence) && P.attr.identity_metrics.coherence < 0.7
      recentFailures: V.history.matches(r'\bfail(ed|ure|ures|ing)?\b|rolled back|\brollbacks?\b')
      incident: has(R.attr.incident_status) && R.attr.incident_status.lowerAscii() in C.incidentActive
      escalate: V.offHours || V.identityDecline || V.recentFailures || V.incident
      limited: V.secrets || V.customerData
  rules:
    - name: read-by-role
      actions: &read [read, view, get, list, list_files, search, browse, download, fetch, query, inspect, show, describe]
      effect: EFFECT_ALLOW
      roles: [member, developer, deployer, admin, ci_bot]
    - name: member-extras
      actions: &memberExtras [comment, react, create_issue]
      effect: EFFECT_ALLOW
      roles: [member]
    - name: write-by-role
      actions: &write [write, commit, push, merge, merge_pr, update, update_config, edit, modify, change, create, upload, patch]
      effect: EFFECT_ALLOW
      roles: [developer, deployer, admin, ci_bot]
    - name: deploy-by-role
      actions: &deploy [deploy, redeploy, release, rollback, roll_back, database_rollback, migrate, restart, scale, publish, hotfix]
      effect: EFFECT_ALLOW
      roles: [deployer, admin, ci_bot]
    - name: admin-by-role
      actions: &admin [delete, delete_team, destroy, drop, purge, grant, grant_permission, revoke, invite, rotate, rotate_key]
      effect: EFFECT_ALLOW
      roles: [admin]
    - name: break-glass-write
      actions: *write
      effect: EFFECT_ALLOW
      roles: [member]
      condition: { match: { expr: V.incident && V.trust >= 0.5 } }
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: break-glass-deploy
      actions: *deploy
      effect: EFFECT_ALLOW
      roles: [member, developer]
      condition: { match: { expr: V.incident && V.trust >= 0.5 } }
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: member-restricted-resources
      actions: [read, view, get, list, list_files, search, browse, download, fetch, query, inspect, show, describe, comment, react, create_issue]
      effect: EFFECT_DENY
      roles: [member]
      condition: { match: { expr: V.limited } }
    - name: read-trust-far-below
      actions: *read
      effect: EFFECT_DENY
      roles: ["*"]
      condition: { match: { expr: V.trust < V.thresholdRead - 0.1 } }
    - name: write-trust-far-below
      actions: *write
      effect: EFFECT_DENY
      roles: [developer, deployer, admin, ci_bot]
      condition: { match: { expr: V.trust < V.thresholdWrite - 0.1 } }
    - name: deploy-trust-far-below
      actions: *deploy
      effect: EFFECT_DENY
      roles: [deployer, admin, ci_bot]
      condition: { match: { expr: V.trust < V.thresholdDeploy - 0.1 } }
    - name: admin-trust-far-below
      actions: *admin
      effect: EFFECT_DENY
      roles: [admin]
      condition: { match: { expr: V.trust < V.thresholdAdmin - 0.1 } }
    - name: read-attest
      actions: *read
      effect: EFFECT_ALLOW
      roles: [member, developer, deployer, admin, ci_bot]
      condition: { match: { expr: V.trust < V.thresholdRead || V.escalate } }
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: write-attest
      actions: *write
      effect: EFFECT_ALLOW
      roles: [developer, deployer, admin, ci_bot]
      condition:
        match:
          expr: V.trust < V.thresholdWrite || V.escalate || (V.autoDeploy && "developer" in P.roles)
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: deploy-attest
      actions: *deploy
      effect: EFFECT_ALLOW
      roles: [deployer, admin, ci_bot]
      condition: { match: { expr: V.trust < V.thresholdDeploy || V.escalate } }
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: admin-attest
      actions: *admin
      effect: EFFECT_ALLOW
      roles: [admin]
      condition: { match: { expr: V.trust < V.thresholdAdmin || V.escalate } }
      output: { when: { ruleActivated: '"require_attestation"' } }
    - name: restricted-resources-attest
      actions: [read, view, get, list, list_files, search, browse, download, fetch, query, inspect, show, describe, write, commit, push, merge, merge_pr, update, update_config, edit, modify, change, create, upload, patch, deploy, redeploy, release, rollback, roll_back, database_rollback, migrate, restart, scale, publish, hotfix]
      effect: EFFECT_ALLOW
      roles: [developer, deployer, ci_bot]
      condition: { match: { expr: V.limited } }
      output: { when: { ruleActivated: '"require_attestation"' } }
`;

/** The server's configuration: loopback only, the policy directory on disk, the audit log on (local backend). */
export function cerbosConfig(o: {
  httpPort: number;
  grpcPort: number;
  policyDir: string;
  auditDir: string;
}): string {
  return [
    "server:",
    `  httpListenAddr: "127.0.0.1:${o.httpPort}"`,
    `  grpcListenAddr: "127.0.0.1:${o.grpcPort}"`,
    "storage:",
    "  driver: disk",
    "  disk:",
    `    directory: ${JSON.stringify(o.policyDir)}`,
    "    watchForChanges: false",
    // The local backend keeps every access and decision record in an embedded store on disk, queryable
    // afterwards: the counterpart of our decision log.
    "audit:",
    "  enabled: true",
    "  accessLogsEnabled: true",
    "  decisionLogsEnabled: true",
    "  backend: local",
    "  local:",
    `    storagePath: ${JSON.stringify(o.auditDir)}`,
    "telemetry:",
    "  disabled: true",
    "",
  ].join("\n");
}

/** The CheckResources request for one situation (POST /api/check/resources). */
export function toCerbosRequest(id: string, s: Situation): Record<string, unknown> {
  const principalAttr: Record<string, unknown> = { t3: s.t3_tensor };
  if (typeof s.recent_history === "string") principalAttr.recent_history = s.recent_history;
  if (s.identity_metrics) principalAttr.identity_metrics = s.identity_metrics;
  const resourceAttr: Record<string, string> = {};
  for (const k of ["team_context", "details", "incident_status", "timestamp"] as const) {
    const v = s[k];
    if (typeof v === "string") resourceAttr[k] = v;
  }
  return {
    requestId: id,
    // Cerbos needs a role and a resource id: an empty one becomes a name no rule knows.
    principal: { id: s.actor_id, roles: [s.actor_role || "(none)"], attr: principalAttr },
    resources: [
      {
        actions: [s.action_type],
        resource: { kind: "action_target", id: s.resource || "(none)", attr: resourceAttr },
      },
    ],
  };
}

interface CheckResourcesAnswer {
  results?: Array<{ actions?: Record<string, string>; outputs?: Array<{ val?: unknown }> }>;
}

/** Cerbos's answer as one of our three decisions (or a description of what came back instead). */
export function cerbosDecision(answer: unknown, action: string): DecisionValue | string {
  const result = (answer as CheckResourcesAnswer)?.results?.[0];
  const effect = result?.actions?.[action];
  if (effect === "EFFECT_DENY") return "deny";
  if (effect !== "EFFECT_ALLOW") return `unexpected answer: ${JSON.stringify(answer).slice(0, 200)}`;
  return (result?.outputs ?? []).some((o) => o.val === "require_attestation")
    ? "require_attestation"
    : "allow";
}
