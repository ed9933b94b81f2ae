import { z } from "zod";
import { isoTimestamp, nonEmpty, RiskLevelSchema, T3Schema, unitScore } from "./common.js";
import { boundedRecord, capId, freeText, freeTextList, looseBounded } from "./limits.js";

/** hardbound's identity coherence: D9 score, self-reference rate, coupling. Extra fields are kept. */
export const CoherenceStateSchema = looseBounded({
  d9Score: unitScore,
  selfReferenceRate: unitScore,
  couplingState: z.enum(["coupled", "quality_leading", "identity_leading", "decoupled"]).optional(),
});

/** The R6Request shape (camelCase) sent by hardbound. Loose at every level: extra fields are kept, strings capped. */
export const R6RequestSchema = looseBounded({
  requestId: capId(nonEmpty("a request id")),
  actorId: capId(nonEmpty("an actor id")),
  actorRole: capId(z.string()).optional(),
  action: looseBounded({
    type: capId(nonEmpty("an action type")),
    target: capId(z.string({ error: "expected the action's target (a string)" })),
    parameters: boundedRecord().optional(),
    description: freeText().optional(),
  }),
  context: looseBounded({
    sessionId: capId(z.string()).optional(),
    previousActions: freeTextList().optional(),
    intent: freeText().optional(),
    callerRiskAssessment: RiskLevelSchema.optional(),
  }),
  trustState: T3Schema,
  coherenceState: CoherenceStateSchema.optional(),
  timestamp: isoTimestamp,
});
export type R6Request = z.infer<typeof R6RequestSchema>;
