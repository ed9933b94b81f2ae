import { z } from "zod";
import { isoTimestamp, nonEmpty, RiskLevelSchema, T3Schema, unitScore } from "./common.js";
import { boundedRecord, capId, freeText, freeTextList, looseBounded } from "./limits.js";

/** Free text or a list of entries: callers send history both ways. Either way at most 16 KiB (limits.ts). */
const textOrList = z.union([freeText(), freeTextList()]);

export const IdentityMetricsSchema = looseBounded({
  level: capId(z.string()).optional(),
  coherence: unitScore.optional(),
  trend: capId(z.string()).optional(),
});

/**
 * The situation shape (snake_case) sent by Python callers such as web4.
 * Loose: any other field is kept and passed to every later stage; its strings are capped like free text.
 */
export const SituationSchema = looseBounded({
  action_type: capId(nonEmpty("an action type")),
  actor_role: capId(z.string({ error: "expected the actor's role (a string)" })),
  actor_id: capId(nonEmpty("an actor id")),
  t3_tensor: T3Schema,
  resource: capId(z.string()).optional(),
  team_context: freeText().optional(),
  timestamp: isoTimestamp.optional(),
  recent_history: textOrList.optional(),
  details: z.union([freeText(), boundedRecord()]).optional(),
  identity_metrics: IdentityMetricsSchema.optional(),
  // Fields that carry R6Request data when a situation came from one (see adapters).
  request_id: capId(nonEmpty("a request id")).optional(),
  session_id: capId(z.string()).optional(),
  previous_actions: freeTextList().optional(),
  intent: freeText().optional(),
  caller_risk_assessment: RiskLevelSchema.optional(),
  parameters: boundedRecord().optional(),
});
export type Situation = z.infer<typeof SituationSchema>;
