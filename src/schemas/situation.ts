import { z } from "zod";
import { isoTimestamp, nonEmpty, RiskLevelSchema, T3Schema, unitScore } from "./common.js";

/** Free text or a list of entries: callers send history both ways. */
const textOrList = z.union([z.string(), z.array(z.string())]);

export const IdentityMetricsSchema = z.looseObject({
  level: z.string().optional(),
  coherence: unitScore.optional(),
  trend: z.string().optional(),
});

/**
 * The situation shape (snake_case) sent by Python callers such as web4.
 * Loose: any other field is kept and passed to every later stage.
 */
export const SituationSchema = z.looseObject({
  action_type: nonEmpty("an action type"),
  actor_role: z.string({ error: "expected the actor's role (a string)" }),
  actor_id: nonEmpty("an actor id"),
  t3_tensor: T3Schema,
  resource: z.string().optional(),
  team_context: z.string().optional(),
  timestamp: isoTimestamp.optional(),
  recent_history: textOrList.optional(),
  details: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  identity_metrics: IdentityMetricsSchema.optional(),
  // Fields that carry R6Request data when a situation came from one (see adapters).
  request_id: nonEmpty("a request id").optional(),
  session_id: z.string().optional(),
  previous_actions: z.array(z.string()).optional(),
  intent: z.string().optional(),
  caller_risk_assessment: RiskLevelSchema.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type Situation = z.infer<typeof SituationSchema>;
