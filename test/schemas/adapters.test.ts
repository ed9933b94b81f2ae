import { describe, expect, it } from "vitest";
import { r6ToSituation, situationToR6 } from "../../src/schemas/adapters.js";
import { R6RequestSchema } from "../../src/schemas/r6.js";
import { SituationSchema } from "../../src/schemas/situation.js";

// The lossless round trips in both directions are property tests over the shared generators in
// test/schemas/adapters.property.test.ts (1,000 cases each, unknown fields at every level).
describe("adapters between the situation and R6Request shapes", () => {
  it("maps the named fields to their counterparts", () => {
    const r6 = situationToR6({
      action_type: "deploy",
      actor_role: "deployer",
      actor_id: "user:c",
      t3_tensor: { competence: 0.7, reliability: 0.7, integrity: 0.7 },
      resource: "env:production",
      details: "ship it",
      team_context: "ops",
      timestamp: "2026-01-01T00:00:00Z",
      request_id: "r1",
    });
    expect(r6).toMatchObject({
      requestId: "r1",
      actorId: "user:c",
      actorRole: "deployer",
      action: { type: "deploy", target: "env:production", description: "ship it" },
      trustState: { competence: 0.7 },
      extensions: { team_context: "ops" },
    });
  });

  it("keeps an incomplete coherence_state in extensions instead of making an invalid R6 coherenceState", () => {
    const situation = SituationSchema.parse({
      action_type: "read",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: 0, reliability: 0, integrity: 0 },
      coherence_state: { d9_score: 0.4 },
    });
    const r6 = situationToR6(situation);
    expect(R6RequestSchema.safeParse(r6).success).toBe(true);
    expect(r6.coherenceState).toBeUndefined();
    expect(r6ToSituation(r6)).toEqual(situation);
  });
});
