import type { AnswerShape } from "../../schemas/decision.js";

/**
 * The advice as a JSON schema, for node-llama-cpp's JSON-schema grammar and for an OpenAI-compatible
 * server's `response_format`, one per answer shape a prompt variant can declare. Length bounds keep the
 * generated answer short: the grammar cannot produce more than a few hundred tokens, so output time is
 * bounded whatever the model does.
 *
 * Property order is generation order under a grammar. It follows the reference system's proven answer:
 * classification and risk first, then the decision, then the reasoning.
 */
export const ADVICE_LIMITS = {
  classification: 48,
  // One sentence per step (about 25 words). The rules engine already states the facts exactly; the model's
  // sentences add judgement. Every character the grammar allows is a token a random-weight model fills.
  reasoningField: 160,
  policyReference: 96,
  policyReferences: 2,
} as const;

/**
 * The compact answer's bounds. The role, trust and environment sentences and the policy references come
 * from the rules engine, so the model writes a label and one context judgement (one or two sentences): about
 * a third of the full answer's tokens.
 */
export const COMPACT_ADVICE_LIMITS = {
  classification: 40,
  context: 180,
} as const;

const RISK_LEVELS = { enum: ["low", "medium", "high", "critical"] } as const;
const DECISIONS = { enum: ["allow", "deny", "require_attestation"] } as const;
const reasoningField = { type: "string", maxLength: ADVICE_LIMITS.reasoningField } as const;

export const ADVICE_JSON_SCHEMA = {
  type: "object",
  properties: {
    classification: { type: "string", minLength: 1, maxLength: ADVICE_LIMITS.classification },
    riskLevel: RISK_LEVELS,
    decision: DECISIONS,
    reasoning: {
      type: "object",
      properties: {
        roleCheck: reasoningField,
        trustCheck: reasoningField,
        environment: reasoningField,
        context: reasoningField,
      },
      required: ["roleCheck", "trustCheck", "environment", "context"],
      additionalProperties: false,
    },
    policyReferences: {
      type: "array",
      items: { type: "string", maxLength: ADVICE_LIMITS.policyReference },
      maxItems: ADVICE_LIMITS.policyReferences,
    },
  },
  required: ["classification", "riskLevel", "decision", "reasoning", "policyReferences"],
  additionalProperties: false,
} as const;

export const COMPACT_ADVICE_JSON_SCHEMA = {
  type: "object",
  properties: {
    classification: { type: "string", minLength: 1, maxLength: COMPACT_ADVICE_LIMITS.classification },
    riskLevel: RISK_LEVELS,
    decision: DECISIONS,
    // minLength: a compact answer is only worth its tokens if the model says what the findings do not.
    context: { type: "string", minLength: 1, maxLength: COMPACT_ADVICE_LIMITS.context },
    // No policyReferences: the rules engine cites the rules by id; a model's free-text citation of them
    // cost ~40 of 150 answer tokens on the bench model for nothing checkable.
  },
  required: ["classification", "riskLevel", "decision", "context"],
  additionalProperties: false,
} as const;

export const ANSWER_JSON_SCHEMAS = {
  full: ADVICE_JSON_SCHEMA,
  compact: COMPACT_ADVICE_JSON_SCHEMA,
} as const satisfies Record<AnswerShape, unknown>;

/** The grammar / response_format schema for a variant's answer shape. */
export function answerJsonSchema<S extends AnswerShape>(shape: S): (typeof ANSWER_JSON_SCHEMAS)[S] {
  return ANSWER_JSON_SCHEMAS[shape];
}

/** Either answer shape's schema: what a completer is asked to constrain an answer to. */
export type AnswerJsonSchema = (typeof ANSWER_JSON_SCHEMAS)[AnswerShape];
