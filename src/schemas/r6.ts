import { z } from "zod";
import { isoTimestamp, nonEmpty, RiskLevelSchema, T3Schema, unitScore } from "./common.js";

/** hardbound's identity coherence: D9 score, self-reference rate, coupling. Extra fields are kept. */
export const CoherenceStateSchema = z.looseObject({
  d9Score: unitScore,
  selfReferenceRate: unitScore,
  couplingState: z.enum(["coupled", "quality_leading", "identity_leading", "decoupled"]).optional(),
});

/** The R6Request shape (camelCase) sent by hardbound. Loose at every level: extra fields are kept. */
export const R6RequestSchema = z.looseObject({
  requestId: nonEmpty("a request id"),
  actorId: nonEmpty("an actor id"),
  actorRole: z.string().optional(),
  action: z.looseObject({
    type: nonEmpty("an action type"),
    target: z.string({ error: "expected the action's target (a string)" }),
    parameters: z.record(z.string(), z.unknown()).optional(),
    description: z.string().optional(),
  }),
  context: z.looseObject({
    sessionId: z.string().optional(),
    previousActions: z.array(z.string()).optional(),
    intent: z.string().optional(),
    callerRiskAssessment: RiskLevelSchema.optional(),
  }),
  trustState: T3Schema,
  coherenceState: CoherenceStateSchema.optional(),
  timestamp: isoTimestamp,
});
export type R6Request = z.infer<typeof R6RequestSchema>;
