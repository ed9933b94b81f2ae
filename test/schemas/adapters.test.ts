import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { r6ToSituation, situationToR6 } from "../../src/schemas/adapters.js";
import { R6RequestSchema } from "../../src/schemas/r6.js";
import { SituationSchema } from "../../src/schemas/situation.js";

const RESERVED = new Set([
  "extensions",
  "r6_extra",
  "__synthesized",
  "__proto__",
  "constructor",
  "prototype",
]);
const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !RESERVED.has(k));
const leaf = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
const extra = (avoid: string[]) =>
  fc.dictionary(
    key.filter((k) => !avoid.includes(k)),
    fc.oneof(leaf, fc.dictionary(key, leaf, { maxKeys: 3 }), fc.array(leaf, { maxLength: 3 })),
    { maxKeys: 3 },
  );
const score = fc.double({ min: 0, max: 1, noNaN: true });
const t3 = fc.record({ competence: score, reliability: score, integrity: score });
const iso = fc
  .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
  .map((d) => d.toISOString());

const SITUATION_KEYS = [
  "action_type",
  "actor_role",
  "actor_id",
  "t3_tensor",
  "resource",
  "team_context",
  "timestamp",
  "recent_history",
  "details",
  "identity_metrics",
  "request_id",
  "session_id",
  "previous_actions",
  "intent",
  "caller_risk_assessment",
  "parameters",
  "coherence_state",
];

const situationArb = fc
  .record(
    {
      action_type: fc.string({ minLength: 1, maxLength: 20 }),
      actor_role: fc.string({ maxLength: 10 }),
      actor_id: fc.string({ minLength: 1, maxLength: 20 }),
      t3_tensor: t3,
      resource: fc.string({ maxLength: 20 }),
      team_context: fc.string({ maxLength: 40 }),
      timestamp: iso,
      recent_history: fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      ),
      details: fc.oneof(fc.string({ maxLength: 30 }), fc.dictionary(key, leaf, { maxKeys: 3 })),
      identity_metrics: fc.record(
        { level: fc.string({ maxLength: 10 }), coherence: score, trend: fc.string({ maxLength: 10 }) },
        { requiredKeys: [] },
      ),
      request_id: fc.string({ minLength: 1, maxLength: 10 }),
      session_id: fc.string({ maxLength: 10 }),
      previous_actions: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      intent: fc.string({ maxLength: 20 }),
      caller_risk_assessment: fc.constantFrom("low", "medium", "high", "critical"),
      parameters: fc.dictionary(key, leaf, { maxKeys: 3 }),
      coherence_state: fc.record({
        d9_score: score,
        self_reference_rate: score,
        coupling_state: fc.constantFrom("coupled", "decoupled"),
      }),
    },
    { requiredKeys: ["action_type", "actor_role", "actor_id", "t3_tensor"] },
  )
  .chain((s) => extra(SITUATION_KEYS).map((x) => ({ ...x, ...s })));

const r6Arb = fc
  .record(
    {
      requestId: fc.string({ minLength: 1, maxLength: 10 }),
      actorId: fc.string({ minLength: 1, maxLength: 10 }),
      actorRole: fc.string({ maxLength: 10 }),
      action: fc
        .record(
          {
            type: fc.string({ minLength: 1, maxLength: 10 }),
            target: fc.string({ maxLength: 10 }),
            parameters: fc.dictionary(key, leaf, { maxKeys: 2 }),
            description: fc.string({ maxLength: 20 }),
          },
          { requiredKeys: ["type", "target"] },
        )
        .chain((a) => extra(["type", "target", "parameters", "description"]).map((x) => ({ ...x, ...a }))),
      context: fc
        .record(
          {
            sessionId: fc.string({ maxLength: 10 }),
            previousActions: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
            intent: fc.string({ maxLength: 10 }),
            callerRiskAssessment: fc.constantFrom("low", "medium", "high", "critical"),
          },
          { requiredKeys: [] },
        )
        .chain((c) =>
          extra(["sessionId", "previousActions", "intent", "callerRiskAssessment"]).map((x) => ({
            ...x,
            ...c,
          })),
        ),
      trustState: t3,
      coherenceState: fc.record(
        {
          d9Score: score,
          selfReferenceRate: score,
          couplingState: fc.constantFrom("coupled", "quality_leading", "identity_leading", "decoupled"),
        },
        { requiredKeys: ["d9Score", "selfReferenceRate"] },
      ),
      timestamp: iso,
    },
    { requiredKeys: ["requestId", "actorId", "action", "context", "trustState", "timestamp"] },
  )
  .chain((r) =>
    extra([
      "requestId",
      "actorId",
      "actorRole",
      "action",
      "context",
      "trustState",
      "coherenceState",
      "timestamp",
    ]).map((x) => ({ ...x, ...r })),
  );

describe("lossless adapters between the situation and R6Request shapes", () => {
  it("situation -> R6Request -> situation loses no field", () => {
    fc.assert(
      fc.property(situationArb, (s) => {
        const parsed = SituationSchema.parse(s);
        const r6 = situationToR6(parsed);
        expect(R6RequestSchema.safeParse(r6).success).toBe(true);
        expect(r6ToSituation(r6)).toEqual(parsed);
      }),
      { numRuns: 500 },
    );
  });

  it("R6Request -> situation -> R6Request loses no field", () => {
    fc.assert(
      fc.property(r6Arb, (r) => {
        const parsed = R6RequestSchema.parse(r);
        const s = r6ToSituation(parsed);
        expect(situationToR6(s)).toEqual(parsed);
      }),
      { numRuns: 500 },
    );
  });

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
});
