import type { EngineVerdict } from "../../../src/engine/types.js";
import type { Situation } from "../../../src/schemas/situation.js";

/** A request and the rules' findings about it, as the advisor hands them to an LLM backend. */
export function sampleRequest(n = 0): { situation: Situation; verdict: EngineVerdict } {
  const situation: Situation = {
    action_type: "deploy",
    actor_role: "developer",
    actor_id: `user:dev-${n}`,
    t3_tensor: { competence: 0.8, reliability: 0.7, integrity: 0.9 },
    resource: "services/payments/staging",
    timestamp: "2026-03-02T03:14:00Z",
    team_context: `Night deploy number ${n}; the on-call engineer asked for it.`,
  };
  const verdict: EngineVerdict = {
    decision: "require_attestation",
    classification: "unusual_timing_deploy",
    riskLevel: "medium",
    reasoning: {
      roleCheck: "developer may deploy to non-production",
      trustCheck: "trust 0.7 meets the 0.6 threshold",
      environment: "staging service",
      context: "deploy at 03:14, outside working hours",
    },
    policyReferences: ["off_hours: deploys outside working hours need verification"],
    signals: [{ id: "off_hours_deviation", severity: "warn", detail: "deploy at 03:14 UTC" }],
    tier: "deploy_nonprod",
    facts: {
      role: "developer",
      roleKnown: true,
      rolePermits: true,
      actionClass: "deploy",
      effectiveClass: "deploy",
      resourceIds: ["staging"],
      production: false,
      critical: false,
      trust: 0.7,
      threshold: 0.6,
      trustBand: "meets",
      hardDeny: false,
      needsNuance: true,
      confident: false,
      uncertain: false,
      unexplained: [],
      relaxable: false,
    },
  };
  return { situation, verdict };
}
