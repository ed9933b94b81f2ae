import { z } from "zod";
import { DecisionValueSchema, RiskLevelSchema } from "./common.js";

export const SignalSchema = z.object({
  id: z.string(),
  severity: z.enum(["info", "warn", "critical"]),
  detail: z.string(),
});
export type Signal = z.infer<typeof SignalSchema>;

export const ReasoningSchema = z.object({
  roleCheck: z.string(),
  trustCheck: z.string(),
  environment: z.string(),
  context: z.string(),
});
export type Reasoning = z.infer<typeof ReasoningSchema>;

export const DecisionSourceSchema = z.enum(["engine", "llm", "cache", "fallback"]);
export type DecisionSource = z.infer<typeof DecisionSourceSchema>;

/** Rollout tiers, in the order the reference rolls enforcement out. */
export const TierSchema = z.enum(["read", "write", "deploy_nonprod", "deploy_prod", "admin"]);
export type Tier = z.infer<typeof TierSchema>;

export const VersionsSchema = z.object({
  policy: z.string(),
  prompt: z.string().nullable(),
  model: z.string().nullable(),
  /** Present (true) only when the model is the project's synthetic GGUF: random weights, answers are noise. */
  modelSynthetic: z.literal(true).optional(),
});
export type Versions = z.infer<typeof VersionsSchema>;

/** The decision JSON of INTERFACES.md, plus optional additions (tier, fallback cause, second opinion). */
export const DecisionSchema = z.object({
  decisionId: z.string(),
  decision: DecisionValueSchema,
  classification: z.string(),
  riskLevel: RiskLevelSchema,
  reasoning: ReasoningSchema,
  policyReferences: z.array(z.string()),
  signals: z.array(SignalSchema),
  source: DecisionSourceSchema,
  versions: VersionsSchema,
  latencyMs: z.number(),
  tier: TierSchema.optional(),
  /** Why the fail-closed answer was given (source "fallback"). */
  fallbackCause: z.string().optional(),
  /** When the rules and the LLM disagreed: both answers, and which one stood. */
  disagreement: z
    .object({
      engine: DecisionValueSchema,
      llm: DecisionValueSchema,
      kept: z.enum(["engine", "llm"]),
      why: z.string(),
    })
    .optional(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * How much a prompt variant has the model write: "full" all four checks of the framework, "compact" the
 * decision and its judgement of the context only (the rules engine supplies the other three checks).
 */
export const AnswerShapeSchema = z.enum(["compact", "full"]);
export type AnswerShape = z.infer<typeof AnswerShapeSchema>;

/**
 * The full answer shape: what an LLM writing all four checks (or the free-text parser) produces, the decision
 * without ids, versions and timing.
 */
export const AdviceSchema = z.object({
  decision: DecisionValueSchema,
  classification: z.string(),
  riskLevel: RiskLevelSchema,
  reasoning: ReasoningSchema,
  policyReferences: z.array(z.string()),
});
export type Advice = z.infer<typeof AdviceSchema>;

/**
 * The compact answer shape: the model's verdict and its judgement of the context only. The role, trust and
 * environment checks are the rules engine's (they are facts it computed), and so are the policy references;
 * combining fills them in.
 */
export const CompactAdviceSchema = z.object({
  classification: z.string(),
  riskLevel: RiskLevelSchema,
  decision: DecisionValueSchema,
  context: z.string(),
  /**
   * Not in the compact grammar (the rules cite the policy by rule id); kept when a server answering free-form
   * JSON adds some, and then appended to the rules' references.
   */
  policyReferences: z.array(z.string()).default([]),
});
export type CompactAdvice = z.infer<typeof CompactAdviceSchema>;

/** What a model answered, in either shape. A compact answer has no `reasoning`. */
export type ModelAdvice = Advice | CompactAdvice;

export const isCompactAdvice = (a: ModelAdvice): a is CompactAdvice => !("reasoning" in a);
