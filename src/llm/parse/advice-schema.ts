/**
 * The advice as a JSON schema, for node-llama-cpp's JSON-schema grammar and for an OpenAI-compatible
 * server's `response_format`. Length bounds keep the generated answer short: the grammar cannot produce
 * more than a few hundred tokens, so output time is bounded whatever the model does.
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

const reasoningField = { type: "string", maxLength: ADVICE_LIMITS.reasoningField } as const;

export const ADVICE_JSON_SCHEMA = {
  type: "object",
  properties: {
    classification: { type: "string", minLength: 1, maxLength: ADVICE_LIMITS.classification },
    riskLevel: { enum: ["low", "medium", "high", "critical"] },
    decision: { enum: ["allow", "deny", "require_attestation"] },
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
