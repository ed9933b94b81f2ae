import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAdvice } from "../../../src/llm/parse/index.js";
import { AdviceSchema, CompactAdviceSchema } from "../../../src/schemas/decision.js";
import { nastyString } from "../../helpers/arbitraries.js";

/**
 * The free-text and JSON advice parsers under hostile model output: any text, binary junk, runaway
 * generations, pathological nesting and repetition (ReDoS bait). Never a throw, never an answer outside
 * the schema, and bounded time.
 */

const CODES = new Set([
  "empty",
  "no_answer",
  "missing_field",
  "invalid_value",
  "ambiguous_decision",
  "conflicting_answers",
]);

function check(raw: string, expected: "json" | "text"): void {
  const r = parseAdvice(raw, expected);
  if (r.ok) {
    const schema = "reasoning" in r.advice ? AdviceSchema : CompactAdviceSchema;
    expect(schema.safeParse(r.advice).success).toBe(true);
  } else {
    expect(CODES.has(r.failure.code), r.failure.code).toBe(true);
    expect(r.failure.message.length).toBeGreaterThan(0);
  }
}

const fragments = fc.constantFrom(
  "{",
  "}",
  "[",
  "]",
  '"',
  "\\",
  ":",
  ",",
  "decision",
  '"decision": "allow"',
  "Decision: deny",
  "**Decision:** require_attestation",
  "```json",
  "```",
  "riskLevel",
  "low",
  "critical",
  "\n",
  "  ",
  "not ",
  "allow",
  "deny",
  "<|im_end|>",
  "Reasoning:",
  "1.",
);

describe("advice parser under fuzzing", () => {
  it("any text, in both expected formats: a schema-valid answer or a typed failure, never a throw", () => {
    fc.assert(
      fc.property(
        fc.oneof(nastyString(400), fc.string({ unit: "binary", maxLength: 2000 })),
        fc.constantFrom("json", "text" as const),
        (raw, f) => check(raw, f as "json" | "text"),
      ),
      { numRuns: 3000 },
    );
  });

  it("soups of answer-like fragments never crash and never yield an invalid answer", () => {
    fc.assert(
      fc.property(
        fc.array(fragments, { maxLength: 200 }).map((xs) => xs.join("")),
        fc.constantFrom("json", "text" as const),
        (raw, f) => check(raw, f as "json" | "text"),
      ),
      { numRuns: 3000 },
    );
  });

  const pathological: Array<[string, string]> = [
    ["100 000 open braces", "{".repeat(100_000)],
    ["100 000 nested arrays", `${"[".repeat(50_000)}${"]".repeat(50_000)}`],
    ["an unterminated string of 500 KB", `{"decision": "${"a".repeat(500_000)}`],
    ["decision label repeated 50 000 times", "Decision: ".repeat(50_000)],
    ["whitespace runs", `Decision:${" ".repeat(200_000)}x`],
    ["1 MB runaway generation", "The actor may allow ".repeat(50_000)],
    ["many small JSON objects", '{"decision":"deny"}'.repeat(20_000)],
    ["backslash storm", `{"decision":"${"\\".repeat(200_001)}"}`],
  ];

  it.each(pathological)("%s: answered (or refused) in bounded time", (_name, raw) => {
    for (const f of ["json", "text"] as const) {
      const t0 = performance.now();
      check(raw, f);
      expect(performance.now() - t0, f).toBeLessThan(2000);
    }
  });
});
