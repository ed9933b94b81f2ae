import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/index.js";
import {
  ADVICE_LIMITS,
  COMPACT_ADVICE_JSON_SCHEMA,
  COMPACT_ADVICE_LIMITS,
  parseFreeText,
  parseJsonAdvice,
} from "../../src/llm/parse/index.js";
import { loadPolicy } from "../../src/policy/load.js";
import { loadVariant, renderPrompt } from "../../src/prompts/index.js";
import { AdviceSchema, CompactAdviceSchema } from "../../src/schemas/decision.js";
import { parseRequest } from "../../src/schemas/request.js";

/** The worked examples teach the answer format: each must be an answer the parser and the grammar accept. */
function answers(prefix: string): string[] {
  return prefix
    .split(/^ANSWER:\n/m)
    .slice(1)
    .map((block) => block.split(/\n\n/)[0] ?? "");
}

describe("worked examples", () => {
  const compact = loadVariant("default");
  const json = loadVariant("full");
  const text = loadVariant("free-text");

  it("the default variant's five compact answers are schema-valid JSON within the grammar's bounds", () => {
    expect(compact.answer).toBe("compact");
    const list = answers(compact.prefix);
    expect(list).toHaveLength(5);
    for (const a of list) {
      const advice = CompactAdviceSchema.parse(JSON.parse(a));
      // Exactly the grammar's fields, in generation order: the decision before the judgement.
      expect(Object.keys(JSON.parse(a))).toEqual(COMPACT_ADVICE_JSON_SCHEMA.required);
      expect(advice.classification.length).toBeLessThanOrEqual(COMPACT_ADVICE_LIMITS.classification);
      expect(advice.context.length).toBeGreaterThan(0);
      expect(advice.context.length).toBeLessThanOrEqual(COMPACT_ADVICE_LIMITS.context);
      expect(parseJsonAdvice(a)).toMatchObject({ ok: true, advice });
    }
  });

  it("the compact and the full variant teach the same cases with the same verdicts", () => {
    const verdictOf = (a: string) => {
      const { classification, riskLevel, decision } = JSON.parse(a);
      return { classification, riskLevel, decision };
    };
    expect(answers(compact.prefix).map(verdictOf)).toEqual(answers(json.prefix).map(verdictOf));
    const situations = (p: string) => p.split(/^ANSWER:\n/m).map((b) => b.split("SITUATION:\n")[1]);
    expect(situations(compact.prefix)).toEqual(situations(json.prefix));
  });

  it("the full variant's five answers are schema-valid JSON within the grammar's bounds", () => {
    const list = answers(json.prefix);
    expect(list).toHaveLength(5);
    for (const a of list) {
      const advice = AdviceSchema.parse(JSON.parse(a));
      expect(advice.classification.length).toBeLessThanOrEqual(ADVICE_LIMITS.classification);
      for (const v of Object.values(advice.reasoning))
        expect(v.length).toBeLessThanOrEqual(ADVICE_LIMITS.reasoningField);
      expect(advice.policyReferences.length).toBeLessThanOrEqual(ADVICE_LIMITS.policyReferences);
      for (const r of advice.policyReferences)
        expect(r.length).toBeLessThanOrEqual(ADVICE_LIMITS.policyReference);
      expect(parseJsonAdvice(a)).toMatchObject({ ok: true, advice });
    }
    // One deny, one allow, and the middle answer three times: investigate rather than deny.
    const decisions = list.map((a) => JSON.parse(a).decision);
    expect(decisions.sort()).toEqual([
      "allow",
      "deny",
      "require_attestation",
      "require_attestation",
      "require_attestation",
    ]);
  });

  it("the free-text variant's answers parse to the same advice as the full variant's", () => {
    const fromText = answers(text.prefix).map((a) => {
      const r = parseFreeText(a);
      if (!r.ok) throw new Error(`example does not parse: ${r.failure.message}\n${a}`);
      return r.advice;
    });
    expect(fromText).toEqual(answers(json.prefix).map((a) => JSON.parse(a)));
  });

  it("the examples use their own actors, not the seed scenarios'", () => {
    for (const actor of [
      "user:alice",
      "user:bob",
      "user:charlie",
      "user:diana",
      "user:eve",
      "user:frank",
      "user:grace",
      "bot:github-actions",
    ]) {
      expect(compact.prefix).not.toContain(actor);
      expect(json.prefix).not.toContain(actor);
      expect(text.prefix).not.toContain(actor);
    }
  });
});

describe("prompt size", () => {
  it("on every seed scenario the per-request part is under a fifth of the whole prompt", () => {
    const engine = createEngine(loadPolicy());
    const suite = JSON.parse(
      readFileSync(new URL("../../data/scenarios/seed-basic.json", import.meta.url), "utf8"),
    );
    for (const variant of [loadVariant("default"), loadVariant("full"), loadVariant("free-text")]) {
      for (const sc of suite.scenarios) {
        const situation = parseRequest(sc.situation).situation;
        const r = renderPrompt(variant, { situation, verdict: engine.evaluate(situation) });
        // Only the request is evaluated per call once the prefix is cached: this is the 5x token target.
        expect(r.request.length * 5).toBeLessThan(r.prefix.length + r.request.length);
      }
    }
  });
});
