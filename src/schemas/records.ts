import { z } from "zod";
import { DecisionValueSchema, ModeSchema } from "./common.js";
import { DecisionSchema, TierSchema } from "./decision.js";
import { RequestShapeSchema } from "./request.js";

/**
 * The decision log's records: what a sidecar stores, what the review and rollout routes send, what the
 * review console reads. Validation of review input and the OpenAPI document use the schemas; everything
 * else the inferred types.
 */

export const ReviewCategorySchema = z.enum(["agree", "too_strict", "too_permissive", "unclear"]);
export type ReviewCategory = z.infer<typeof ReviewCategorySchema>;

export const ReviewSchema = z.object({
  reviewer: z.string(),
  finalDecision: DecisionValueSchema,
  category: ReviewCategorySchema,
  notes: z.string().optional(),
  reviewedAt: z.string(),
});
export type Review = z.infer<typeof ReviewSchema>;

/** One logged decision: what was asked, what was answered, under which versions and mode. */
export const DecisionRecordSchema = z.object({
  decisionId: z.string(),
  createdAt: z.string(),
  /** The request as received (after masking), in its own shape. */
  input: z.unknown().describe("the request as received, after masking"),
  shape: RequestShapeSchema,
  decision: DecisionSchema,
  mode: ModeSchema,
  tier: TierSchema,
  /** The caller's current engine's decision, when sent (shadow mode). */
  control: DecisionValueSchema.optional(),
  /** The decision the caller applies. */
  effectiveDecision: DecisionValueSchema,
  review: ReviewSchema.optional(),
});
export type DecisionRecord = z.infer<typeof DecisionRecordSchema>;

/**
 * What the measures need of a logged decision, read from columns without parsing the stored request and
 * decision JSON: status and rollback checks run over many of these. A DecisionRecord is one.
 */
export const DecisionFactsSchema = DecisionRecordSchema.pick({
  decisionId: true,
  createdAt: true,
  tier: true,
  mode: true,
  control: true,
  review: true,
}).extend({
  decision: DecisionSchema.pick({
    decision: true,
    riskLevel: true,
    source: true,
    latencyMs: true,
    versions: true,
  }),
});
export type DecisionFacts = z.infer<typeof DecisionFactsSchema>;

/** A selection of logged decisions. */
export const DecisionQuerySchema = z.object({
  since: z.string().optional(),
  until: z.string().optional(),
  tier: TierSchema.optional(),
  mode: ModeSchema.optional(),
  decision: DecisionValueSchema.optional(),
  actor: z.string().optional(),
  action: z.string().optional(),
  /** Only records whose control differs from the decision. */
  mismatchesOnly: z.boolean().optional(),
  reviewed: z.boolean().optional(),
  /** Free-text search over the stored input and decision JSON (case-insensitive substring). */
  q: z.string().optional(),
  /** Order by creation time; newest first unless "asc". */
  order: z.enum(["asc", "desc"]).optional(),
  limit: z.number().optional(),
  offset: z.number().optional(),
});
export type DecisionQuery = z.infer<typeof DecisionQuerySchema>;

/** A candidate version's decision on a request the current version answered (A/B in shadow). */
export const CandidateDecisionSchema = z.object({
  decisionId: z.string(),
  /** Name of the candidate, e.g. "prompt=compact@sha256:... model=qwen". */
  candidate: z.string(),
  createdAt: z.string(),
  decision: DecisionSchema,
});
export type CandidateDecision = z.infer<typeof CandidateDecisionSchema>;

/** A selection of candidate decisions. */
export const CandidateQuerySchema = z.object({
  since: z.string().optional(),
  until: z.string().optional(),
  candidate: z.string().optional(),
});
export type CandidateQuery = z.infer<typeof CandidateQuerySchema>;
