import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findJsonObjects,
  parseAdvice,
  parseFreeText,
  parseJsonAdvice,
} from "../../../src/llm/parse/index.js";
import { endsNegated, parseDecisionValue, stripThinking } from "../../../src/llm/parse/normalise.js";

/**
 * A hostile or broken model server controls the reply text: parsing it must take linear time. Replies are
 * read up to MAX_PARSE_CHARS (64,000), so the hostile part sits inside that. Those marked "was: N s" took
 * that long before the parser became a scan (measured on the 2-core dev machine); each now parses or fails
 * with a typed failure in milliseconds.
 */

const ANSWER = JSON.stringify({
  decision: "deny",
  classification: "unauthorized_admin_action",
  riskLevel: "high",
  reasoning: { roleCheck: "a", trustCheck: "b", environment: "c", context: "d" },
  policyReferences: [],
});

const KB = 1024;
/** `unit` repeated to `size` characters. */
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Runs `f`, failing when it takes longer than a linear parse of these sizes ever should. */
function quick<T>(f: () => T): T {
  const started = performance.now();
  const result = f();
  expect(performance.now() - started).toBeLessThan(500);
  return result;
}

const HOSTILE: ReadonlyArray<[string, string]> = [
  ["62 KB of nested braces (was: 10 s)", `${"{".repeat(31 * KB)}${"}".repeat(31 * KB)}`],
  ["1 MB of nested-brace groups (was: 1.9 s)", fill(`${"{".repeat(2 * KB)}${"}".repeat(2 * KB)}`, 1024 * KB)],
  ["64 KB of unbalanced quotes and braces", fill('{"\\"}{"', 64 * KB)],
  ["1 MB of unbalanced quotes and braces", fill('{"\\"}{"', 1024 * KB)],
  ["nested objects that never close their strings", `${'{"a":"'.repeat(5 * KB)}${"}".repeat(5 * KB)}`],
  ["an unclosed code fence before 60 KB of blanks (was: 0.7 s)", `\`\`\`json\n${"\t".repeat(60 * KB)}`],
  ["1 MB of unclosed thinking tags", fill("<THINK>T", 1024 * KB)],
  ["a label followed by 60 KB of tabs (was: 5.7 s)", `Decision${"\t".repeat(60 * KB)}x`],
  ["a label followed by 60 KB of spaced dashes", `A ${fill(" \t– ", 60 * KB)}\u2028`],
];

describe("parsing a hostile model reply takes linear time", () => {
  it.each(HOSTILE)("%s: a typed failure, fast", (_name, reply) => {
    for (const parse of [parseJsonAdvice, parseFreeText, (t: string) => parseAdvice(t, "json")]) {
      const r = quick(() => parse(reply));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.failure.message.length).toBeGreaterThan(0);
    }
  });

  it("still finds an answer after a long run of prose in braces", () => {
    const r = quick(() => parseJsonAdvice(`${"Consider {the actor} ".repeat(2 * KB)}\n${ANSWER}`));
    expect(r.ok && r.advice.decision).toBe("deny");
  });

  it("still finds an answer nested a few levels deep in objects that are not JSON", () => {
    const r = quick(() => parseJsonAdvice(`{ note: {draft} {"answer": ${ANSWER}} }`));
    expect(r.ok && r.advice.decision).toBe("deny");
  });

  it("still finds an answer after thinking and an unclosed fence of blanks", () => {
    const reply = `<think>${"allow? ".repeat(4 * KB)}</think>\n${ANSWER}\n\`\`\`${" ".repeat(32 * KB)}`;
    const r = quick(() => parseAdvice(reply, "json"));
    expect(r.ok && r.advice.decision).toBe("deny");
  });

  it("takes no object nested deeper than an answer can be (its copy would overflow the stack)", () => {
    const deep = `${'{"a":'.repeat(10 * KB)}1${"}".repeat(10 * KB)}`;
    expect(quick(() => findJsonObjects(deep))).toEqual([]);
    const r = quick(() =>
      parseJsonAdvice(ANSWER.replace('"policyReferences":[]', `"policyReferences":[${deep}]`)),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure.code).toBe("no_answer");
  });

  it("strips thinking blocks exactly as the regex form did", () => {
    // The old implementation, as the oracle on short texts (where its backtracking does not matter).
    const oracle = (t: string) =>
      t
        .replace(/<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi, " ")
        .replace(/<(think|thinking|reasoning)>[\s\S]*$/i, " ");
    const piece = fc.constantFrom(
      "<think>",
      "</think>",
      "<THINK>",
      "</Think>",
      "<thinking>",
      "</thinking>",
      "<reasoning>",
      "</REASONING>",
      "</think",
      "<",
      ">",
      "/",
      "allow",
      " ",
      "\n",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join("");
        expect(stripThinking(text)).toBe(oracle(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads a negation before a decision word exactly as the regex form did", () => {
    const oracle = /\b(not|never|don'?t|do\s+not|cannot|can'?t|shouldn'?t|no)\s+(?:\w+\s+){0,2}$/i;
    const piece = fc.constantFrom(
      "not",
      "NOT",
      "knot",
      "(not",
      "never",
      "don't",
      "dont",
      "can't",
      "cannot",
      "shouldn't",
      "no",
      "uno",
      "do",
      "x-no",
      "really",
      "just",
      "re-ally",
      "'",
      " ",
      "  ",
      "\t",
      "\n",
      ".",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
        const before = pieces.join("");
        expect(endsNegated(before)).toBe(oracle.test(before));
      }),
      { numRuns: 3000 },
    );
  });

  it("a decision value naming thousands of decision words is read in linear time", () => {
    // Was quadratic: the negation check rescanned the whole value before each word (2 s for these 30,000).
    expect(quick(() => parseDecisionValue(`ok ${"allow ".repeat(30_000)}`))).toEqual({
      ok: true,
      value: "allow",
    });
    expect(quick(() => parseDecisionValue(`ok ${"allow ".repeat(30_000)}but do not allow`))).toEqual({
      ok: false,
      reason: "ambiguous",
    });
  });
});
