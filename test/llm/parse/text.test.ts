import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAdvice, parseFreeText } from "../../../src/llm/parse/index.js";
import { adviceArb, renderText, styleArb } from "./arbitraries.js";

const REFERENCE = `Classification: unusual_timing_commit
Risk Level: medium
Decision: require_attestation
Reasoning:
1. Role check: Developers may commit code.
2. Trust check: Trust of 0.85 meets the 0.5 threshold.
3. Environment: A core repository, medium risk.
4. Context: 03:30 local time is far outside the actor's usual hours, a pattern deviation.
Policy References:
- role_permission: developers may write
- timing_deviation: off-hours activity requires verification`;

describe("free-text parser: the reference format", () => {
  it("reads every field of the reference answer", () => {
    const r = parseFreeText(REFERENCE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.advice).toEqual({
      decision: "require_attestation",
      classification: "unusual_timing_commit",
      riskLevel: "medium",
      reasoning: {
        roleCheck: "Developers may commit code.",
        trustCheck: "Trust of 0.85 meets the 0.5 threshold.",
        environment: "A core repository, medium risk.",
        context: "03:30 local time is far outside the actor's usual hours, a pattern deviation.",
      },
      policyReferences: [
        "role_permission: developers may write",
        "timing_deviation: off-hours activity requires verification",
      ],
    });
    expect(r.warnings).toEqual([]);
  });

  it("reads markdown: headings, bold labels, bullets, and a title-cased decision", () => {
    const md = `Sure, here is my assessment.

### Classification
**Config Change With Deploy Impact**

**Risk Level:** HIGH
**Decision:** **Require Attestation**

#### Reasoning
- **Role Check:** Writes are permitted,
  but the change deploys itself.
- **Trust Check:** 0.8 meets the bar.
- **Environment Risk:** production.
- **Context Check:** auto-deploy.

**Policy References:**
1. effective_class: auto-deploy counts as deploy

Let me know if you need anything else.`;
    const r = parseFreeText(md);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.advice.decision).toBe("require_attestation");
    expect(r.advice.classification).toBe("config_change_with_deploy_impact");
    expect(r.advice.riskLevel).toBe("high");
    expect(r.advice.reasoning.roleCheck).toBe("Writes are permitted, but the change deploys itself.");
    expect(r.advice.reasoning.environment).toBe("production.");
    expect(r.advice.policyReferences).toEqual(["effective_class: auto-deploy counts as deploy"]);
  });

  it("maps four unlabeled reasoning points to the four checks in order", () => {
    const r = parseFreeText(
      "Classification: x\nRisk Level: low\nDecision: allow\nReasoning:\n1. role ok\n2. trust ok\n3. staging\n4. nothing odd\n",
    );
    expect(r.ok && r.advice.reasoning).toEqual({
      roleCheck: "role ok",
      trustCheck: "trust ok",
      environment: "staging",
      context: "nothing odd",
    });
  });

  it.each([
    ["do not allow", "ambiguous_decision"],
    ["allow | deny | require_attestation", "ambiguous_decision"],
    ["maybe", "invalid_value"],
  ])("never reads %j as a decision (%s)", (value, code) => {
    const r = parseFreeText(REFERENCE.replace("Decision: require_attestation", `Decision: ${value}`));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe(code);
  });

  it.each([
    "allow with attestation",
    "allow only if the manager approves",
    "approved pending attestation",
    "Approve after review",
    "approved (subject to sign-off)",
    "allowed once a human confirms",
  ])("reads the qualified allow %j as require_attestation", (value) => {
    const r = parseFreeText(REFERENCE.replace("Decision: require_attestation", `Decision: ${value}`));
    expect(r.ok && r.advice.decision).toBe("require_attestation");
  });

  it("reads 'The decision is to deny' style values with one un-negated decision", () => {
    const r = parseFreeText(
      REFERENCE.replace("Decision: require_attestation", "Decision: my recommendation is denied"),
    );
    expect(r.ok && r.advice.decision).toBe("deny");
  });

  it("fails on conflicting decisions instead of picking one", () => {
    const r = parseFreeText(`${REFERENCE}\n\nDecision: allow`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe("conflicting_answers");
  });

  it("skips an echoed output template and reads the real answer", () => {
    const echoed = `Decision: allow | deny | require_attestation\n\n${REFERENCE}`;
    const r = parseFreeText(echoed);
    expect(r.ok && r.advice.decision).toBe("require_attestation");
  });

  it.each([
    ["", "empty"],
    ["   \n\n ", "empty"],
    ["I cannot help with that request.", "no_answer"],
    ["Classification: x\nRisk Level: low\nReasoning: fine", "missing_field"],
    ["Classification: x\nDecision: allow\nReasoning: fine", "missing_field"],
    ["Risk Level: low\nDecision: allow\nReasoning: fine", "missing_field"],
    ["Classification: x\nRisk Level: low\nDecision: allow", "missing_field"],
    ["Classification: x\nRisk Level: enormous\nDecision: deny\nReasoning: y", "invalid_value"],
  ])("a typed failure for %j", (text, code) => {
    const r = parseAdvice(text, "text");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe(code);
  });
});

describe("free-text parser: properties", () => {
  it("reads back any advice in any model styling", () => {
    fc.assert(
      fc.property(adviceArb, styleArb, (advice, style) => {
        const r = parseFreeText(renderText(advice, style));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.advice).toEqual(advice);
      }),
      { numRuns: 600 },
    );
  });

  it("parseAdvice reads the text form even when JSON was expected", () => {
    fc.assert(
      fc.property(adviceArb, styleArb, (advice, style) => {
        const r = parseAdvice(renderText(advice, style), "json");
        expect(r.ok && r.advice.decision).toBe(advice.decision);
      }),
      { numRuns: 200 },
    );
  });

  it("a missing decision line is always a failure, never a default", () => {
    fc.assert(
      fc.property(adviceArb, styleArb, (advice, style) => {
        const text = renderText(advice, style)
          .split(/\r?\n/)
          .filter((l) => !/decision/i.test(l))
          .join("\n");
        const withoutValue = style.heading || style.valueOnNextLine;
        const r = parseFreeText(
          withoutValue ? text.replace(/^(allow|deny|require.attestation)\s*$/gim, "") : text,
        );
        expect(r.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("two different decisions are always a conflict", () => {
    fc.assert(
      fc.property(
        adviceArb,
        styleArb,
        fc.constantFrom("allow", "deny", "require_attestation"),
        (advice, style, other) => {
          fc.pre(other !== advice.decision);
          const r = parseFreeText(`${renderText(advice, style)}\nDecision: ${other}\n`);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.failure.code).toBe("conflicting_answers");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never throws, and never allows unless the text says allow", () => {
    const noise = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.string({ unit: "grapheme", maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            "Decision:",
            "Risk Level: high",
            "Reasoning:",
            "\n",
            "**",
            "#",
            "- ",
            "{",
            "}",
            '"decision"',
            "deny",
            "allow",
            "not",
            " ",
          ),
          {
            maxLength: 60,
          },
        )
        .map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(noise, (text) => {
        for (const format of ["json", "text"] as const) {
          const r = parseAdvice(text, format);
          if (r.ok && r.advice.decision === "allow") expect(text.toLowerCase()).toContain("allow");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("stays fast on a runaway generation", () => {
    const huge = `${"Reasoning: the the the ".repeat(20_000)}\n`.repeat(5);
    const t0 = performance.now();
    parseAdvice(huge, "text");
    parseAdvice(`${"{".repeat(50_000)}`, "json");
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("reasoning models", () => {
  it("ignores drafts inside <think> blocks, in both formats", () => {
    const thinking = '<think>\nMaybe Decision: allow? No wait.\n{"decision": "allow"}\n</think>\n';
    const t = parseAdvice(`${thinking}${REFERENCE}`, "text");
    expect(t.ok && t.advice.decision).toBe("require_attestation");
    const j = parseAdvice(
      `${thinking}{"decision":"deny","classification":"x","riskLevel":"high","reasoning":{"roleCheck":"a","trustCheck":"b","environment":"c","context":"d"},"policyReferences":[]}`,
      "json",
    );
    expect(j.ok && j.advice.decision).toBe("deny");
  });

  it("an answer cut off inside its thinking has no answer", () => {
    const r = parseAdvice("<think>Decision: allow because", "text");
    expect(r.ok).toBe(false);
  });
});
