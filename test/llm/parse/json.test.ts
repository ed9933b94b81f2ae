import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ADVICE_JSON_SCHEMA,
  COMPACT_ADVICE_JSON_SCHEMA,
  findJsonObjects,
  parseAdvice,
  parseJsonAdvice,
} from "../../../src/llm/parse/index.js";
import { AdviceSchema, CompactAdviceSchema } from "../../../src/schemas/decision.js";
import { adviceArb, compactAdviceArb } from "./arbitraries.js";

const ADVICE = {
  decision: "deny",
  classification: "unauthorized_admin_action",
  riskLevel: "high",
  reasoning: { roleCheck: "a", trustCheck: "b", environment: "c", context: "d" },
  policyReferences: ["role_permission: roles must permit the class"],
};

describe("JSON extractor", () => {
  it("reads bare JSON", () => {
    const r = parseJsonAdvice(JSON.stringify(ADVICE));
    expect(r.ok && r.advice).toEqual(ADVICE);
  });

  it("reads JSON in a code fence with prose around it", () => {
    const r = parseJsonAdvice(
      `Here is the decision:\n\n\`\`\`json\n${JSON.stringify(ADVICE, null, 2)}\n\`\`\`\nDone.`,
    );
    expect(r.ok && r.advice).toEqual(ADVICE);
  });

  it("reads a compact answer: the context at the top level, no reasoning object", () => {
    const compact = {
      classification: "unusual_timing_write",
      riskLevel: "medium",
      decision: "require_attestation",
      context: "A 3 am push from someone who only pushes by day.",
    };
    const r = parseJsonAdvice(`\`\`\`json\n${JSON.stringify(compact)}\n\`\`\``);
    expect(r.ok && r.advice).toEqual({ ...compact, policyReferences: [] });
    // Free-form JSON from a server without response_format: other spellings, a missing reference list.
    const loose = parseJsonAdvice(
      '{"Decision": "Require Attestation", "risk_level": "High", "category": "Odd Hours", "context_check": "3am"}',
    );
    expect(loose.ok && loose.advice).toEqual({
      classification: "odd_hours",
      riskLevel: "high",
      decision: "require_attestation",
      context: "3am",
      policyReferences: [],
    });
  });

  it("an answer with neither reasoning nor context is a missing field, not a compact answer", () => {
    const r = parseJsonAdvice(
      '{"decision": "allow", "riskLevel": "low", "classification": "x", "context": " "}',
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure).toMatchObject({ code: "missing_field", field: "reasoning" });
  });

  it("any compact advice survives being embedded in prose and fences", () => {
    fc.assert(
      fc.property(compactAdviceArb, fc.boolean(), (advice, fence) => {
        const body = JSON.stringify(advice, null, 2);
        const r = parseJsonAdvice(fence ? `Answer:\n\`\`\`json\n${body}\n\`\`\`` : body);
        expect(r.ok && r.advice).toEqual(advice);
      }),
      { numRuns: 200 },
    );
  });

  it("reads snake_case keys, a spaced decision, a nested answer and a trailing comma", () => {
    const text = `{"answer": {"decision": "Require Attestation", "classification": "Odd Hours", "risk_level": "Medium",
      "reasoning": {"role_check": "ok", "trust_check": "ok", "environment_risk": "repo", "context": "3am"},
      "policy_references": ["timing",],}}`;
    const r = parseJsonAdvice(text);
    expect(r.ok && r.advice).toEqual({
      decision: "require_attestation",
      classification: "odd_hours",
      riskLevel: "medium",
      reasoning: { roleCheck: "ok", trustCheck: "ok", environment: "repo", context: "3am" },
      policyReferences: ["timing"],
    });
  });

  it("ignores braces inside strings when finding objects", () => {
    const objs = findJsonObjects(`noise {"a": "}{", "b": {"c": 1}} tail {bad} {"d": 2}`);
    expect(objs).toEqual([{ a: "}{", b: { c: 1 } }, { d: 2 }]);
  });

  it.each([
    ['{"decision": "allow"}', "missing_field"],
    ['{"decision": "perhaps", "riskLevel": "low"}', "invalid_value"],
    ['{"decision": "do not allow", "riskLevel": "low"}', "ambiguous_decision"],
    ['{"decision": 1}', "invalid_value"],
    ['{"classification": "x"}', "no_answer"],
    ["{ unterminated", "no_answer"],
  ])("a typed failure for %s", (text, code) => {
    const r = parseJsonAdvice(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe(code);
  });

  it("two answers with different decisions are a conflict", () => {
    const r = parseJsonAdvice(
      `${JSON.stringify(ADVICE)}\nActually: ${JSON.stringify({ ...ADVICE, decision: "allow" })}`,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe("conflicting_answers");
  });

  it("a bad JSON answer is not rescued by the text reading", () => {
    const r = parseAdvice(
      '{"decision": "allow"}\nDecision: allow\nRisk Level: low\nClassification: x\nReasoning: y',
      "json",
    );
    expect(r.ok).toBe(false);
  });

  it("any advice survives being embedded in prose, fences and indentation", () => {
    const wrap = fc.record({
      before: fc.constantFrom("", "Answer:\n", "Let me think step by step. The actor {is} a developer.\n"),
      after: fc.constantFrom("", "\nThanks", "\n(end of answer)"),
      fence: fc.boolean(),
      indent: fc.constantFrom(undefined, 2, 4),
    });
    fc.assert(
      fc.property(adviceArb, wrap, (advice, w) => {
        const body = JSON.stringify(advice, null, w.indent);
        const text = `${w.before}${w.fence ? `\`\`\`json\n${body}\n\`\`\`` : body}${w.after}`;
        const r = parseJsonAdvice(text);
        expect(r.ok && r.advice).toEqual(advice);
      }),
      { numRuns: 400 },
    );
  });

  it("the compact response_format schema has CompactAdviceSchema's fields but the references, in generation order", () => {
    expect([...COMPACT_ADVICE_JSON_SCHEMA.required, "policyReferences"]).toEqual(
      Object.keys(CompactAdviceSchema.shape),
    );
    // What the grammar produces is what the schema reads; the references default to none.
    expect(
      CompactAdviceSchema.parse({ classification: "x", riskLevel: "low", decision: "allow", context: "c" }),
    ).toMatchObject({ policyReferences: [] });
    expect(Object.keys(COMPACT_ADVICE_JSON_SCHEMA.properties)).toEqual([
      ...COMPACT_ADVICE_JSON_SCHEMA.required,
    ]);
  });

  it("the response_format schema accepts exactly what AdviceSchema accepts for bounded answers", () => {
    expect([...ADVICE_JSON_SCHEMA.required].sort()).toEqual(Object.keys(AdviceSchema.shape).sort());
    expect(Object.keys(ADVICE_JSON_SCHEMA.properties)).toEqual([...ADVICE_JSON_SCHEMA.required]);
    expect(Object.keys(ADVICE_JSON_SCHEMA.properties.reasoning.properties)).toEqual(
      Object.keys(AdviceSchema.shape.reasoning.shape),
    );
  });
});
