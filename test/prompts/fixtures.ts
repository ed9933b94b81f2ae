import type { EngineVerdict } from "../../src/engine/types.js";
import type { Situation } from "../../src/schemas/situation.js";

/** A rules verdict as the engine reports it: plain data, the renderer's input. */
export function verdictFor(overrides: Partial<EngineVerdict> = {}): EngineVerdict {
  return {
    decision: "require_attestation",
    classification: "unusual_timing_write",
    riskLevel: "medium",
    reasoning: { roleCheck: "r", trustCheck: "t", environment: "e", context: "c" },
    policyReferences: [],
    signals: [{ id: "off_hours_deviation", severity: "warn", detail: "02:00 local time" }],
    tier: "write",
    facts: {
      role: "developer",
      roleKnown: true,
      rolePermits: true,
      actionClass: "write",
      effectiveClass: "write",
      resourceIds: [],
      production: false,
      critical: false,
      trust: 0.8123456,
      threshold: 0.5,
      trustBand: "meets",
      hardDeny: false,
      needsNuance: true,
      confident: true,
      uncertain: false,
      unexplained: [],
      relaxable: false,
    },
    ...overrides,
  };
}

export const situation = (extra: Record<string, unknown> = {}): Situation => ({
  action_type: "commit",
  actor_role: "developer",
  actor_id: "user:sam",
  t3_tensor: { competence: 0.9, reliability: 0.82, integrity: 0.88 },
  resource: "repo:ledger",
  timestamp: "2026-04-01T06:00:00Z",
  team_context: "Team works 9-17",
  recent_history: "Sam never commits at night",
  ...extra,
});
