import { z } from "zod";
import { DecisionValueSchema } from "../schemas/common.js";
import { DecisionSchema, TierSchema } from "../schemas/decision.js";

/** zod descriptions of the log's records, for validation of review input and for the OpenAPI document. */
export const ModeValueSchema = z.enum(["shadow", "advisory", "enforce"]);
export const ReviewCategorySchema = z.enum(["agree", "too_strict", "too_permissive", "unclear"]);

export const ReviewSchema = z.object({
  reviewer: z.string(),
  finalDecision: DecisionValueSchema,
  category: ReviewCategorySchema,
  notes: z.string().optional(),
  reviewedAt: z.string(),
});

export const DecisionRecordSchema = z.object({
  decisionId: z.string(),
  createdAt: z.string(),
  input: z.unknown().describe("the request as received, after masking"),
  shape: z.enum(["situation", "r6"]),
  decision: DecisionSchema,
  mode: ModeValueSchema,
  tier: TierSchema,
  control: DecisionValueSchema.optional(),
  effectiveDecision: DecisionValueSchema,
  review: ReviewSchema.optional(),
});
