import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../../src/schemas/errors.js";
import { parseRequest } from "../../src/schemas/request.js";
import { isBlankName } from "../../src/util/unicode.js";
import { deeplyNested, nastyString, r6Arb, situationArb, wrongValue } from "../helpers/arbitraries.js";

/** Runs parseRequest and classifies the outcome; anything but a result or InvalidRequestError fails. */
function outcome(input: unknown): "ok" | InvalidRequestError {
  try {
    parseRequest(input);
    return "ok";
  } catch (e) {
    if (e instanceof InvalidRequestError) return e;
    throw new Error(
      `parseRequest threw ${(e as Error)?.name}: ${(e as Error)?.message} for ${String(input).slice(0, 80)}`,
    );
  }
}

function expectClearIssues(err: InvalidRequestError): void {
  expect(err.issues.length).toBeGreaterThan(0);
  for (const i of err.issues) {
    expect(typeof i.path).toBe("string");
    expect(i.message.length).toBeGreaterThan(0);
  }
  expect(err.message).not.toMatch(/\n\s+at /); // no stack trace in what the user sees
}

describe("request schemas under fuzzing", () => {
  it("any JSON value is either a valid request or an InvalidRequestError with issues", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = outcome(v);
        if (r !== "ok") expectClearIssues(r);
      }),
      { numRuns: 3000 },
    );
  });

  it("any JS value (symbols, functions, bigints, typed arrays, null prototypes) never crashes validation", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withTypedArray: true,
          withSparseArray: true,
          withObjectString: true,
        }),
        (v) => {
          const r = outcome(v);
          if (r !== "ok") expectClearIssues(r);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("objects that look like one shape but are half-formed get issues naming the fields", () => {
    const partial = fc.oneof(
      situationArb.chain((s) =>
        fc.subarray(Object.keys(s)).map((keep) => Object.fromEntries(keep.map((k) => [k, s[k]]))),
      ),
      r6Arb.chain((s) =>
        fc.subarray(Object.keys(s)).map((keep) => Object.fromEntries(keep.map((k) => [k, s[k]]))),
      ),
    );
    fc.assert(
      fc.property(partial, (v) => {
        const r = outcome(v);
        if (r !== "ok") expectClearIssues(r);
      }),
      { numRuns: 2000 },
    );
  });

  const typedFields: Array<
    [string, (s: Record<string, unknown>, v: unknown) => void, (v: unknown) => boolean]
  > = [
    ["action_type", (s, v) => (s.action_type = v), (v) => typeof v === "string" && !isBlankName(v)],
    ["actor_id", (s, v) => (s.actor_id = v), (v) => typeof v === "string" && !isBlankName(v)],
    ["actor_role", (s, v) => (s.actor_role = v), (v) => typeof v === "string"],
    [
      "t3_tensor.competence",
      (s, v) => ((s.t3_tensor as Record<string, unknown>).competence = v),
      (v) => typeof v === "number" && v >= 0 && v <= 1,
    ],
    [
      "t3_tensor.integrity",
      (s, v) => ((s.t3_tensor as Record<string, unknown>).integrity = v),
      (v) => typeof v === "number" && v >= 0 && v <= 1,
    ],
    ["t3_tensor", (s, v) => (s.t3_tensor = v), () => false],
    ["timestamp", (s, v) => (s.timestamp = v), (v) => typeof v === "string" && !Number.isNaN(Date.parse(v))],
    ["caller_risk_assessment", (s, v) => (s.caller_risk_assessment = v), () => false],
  ];

  it.each(typedFields)("a wrong-typed %s is refused with an issue at that path", (path, set, valid) => {
    fc.assert(
      fc.property(situationArb, fc.oneof(wrongValue, nastyString()), (s, v) => {
        fc.pre(!valid(v));
        const bad = structuredClone(s);
        set(bad, v);
        const r = outcome(bad);
        expect(r).toBeInstanceOf(InvalidRequestError);
        const err = r as InvalidRequestError;
        expectClearIssues(err);
        expect(err.issues.map((i) => i.path).some((p) => p === path || p.startsWith(`${path}.`))).toBe(true);
        expect(err.message).toContain(path);
      }),
      { numRuns: 300 },
    );
  });

  it("an out-of-range trust score names the field and the range, as INTERFACES.md shows", () => {
    const r = outcome({
      action_type: "read",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: 0.5, reliability: 0.5, integrity: 1.5 },
    });
    expect(r).toBeInstanceOf(InvalidRequestError);
    expect((r as InvalidRequestError).issues).toContainEqual({
      path: "t3_tensor.integrity",
      message: "expected a number between 0 and 1",
    });
  });

  it("unicode-heavy text in every free-text field is accepted and kept exactly", () => {
    fc.assert(
      fc.property(situationArb, nastyString(200), nastyString(200), nastyString(200), (s, a, b, c) => {
        const input = { ...s, team_context: a, details: b, recent_history: c, [`note_${a.length}`]: c };
        const { situation } = parseRequest(input);
        expect(situation.team_context).toBe(a);
        expect(situation.details).toBe(b);
        expect(situation.recent_history).toBe(c);
        expect((situation as Record<string, unknown>)[`note_${a.length}`]).toBe(c);
      }),
      { numRuns: 500 },
    );
  });

  it("oversized free text (5 MB) is refused quickly, naming each field and its 16 KiB cap", () => {
    const big = "x".repeat(5 * 1024 * 1024);
    const t0 = performance.now();
    const r = outcome({
      action_type: "read",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: 1, reliability: 1, integrity: 1 },
      team_context: big,
      extra: [big],
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r).toBeInstanceOf(InvalidRequestError);
    const message = `expected at most 16384 characters, got ${big.length}`;
    expect((r as InvalidRequestError).issues).toEqual([
      { path: "team_context", message },
      { path: "extra[0]", message },
    ]);
  });

  it("a situation with an unknown field nested 100 000 levels deep is refused with a 400 naming the depth, not a crash", () => {
    const r = outcome({
      action_type: "read",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: 1, reliability: 1, integrity: 1 },
      deep: deeplyNested(100_000),
    });
    expect(r).toBeInstanceOf(InvalidRequestError);
    expect((r as InvalidRequestError).issues[0]!.message).toMatch(/nested more than \d+ levels deep/);
  });

  // KNOWN DEFECT (reported to the lead, owner of src/schemas): r6ToSituation deep-clones and deep-merges
  // recursively, so an R6Request with an unknown field nested ~3000+ levels deep throws RangeError
  // (stack overflow) instead of an answer or a 400. JSON.parse accepts such a body (a 1 MB body nests
  // 500 000 deep), so the server must refuse deep bodies or parseRequest must bound depth.
  // Remove `.fails` once deep nesting gives "ok" or an InvalidRequestError.
  it("an R6Request with an unknown field nested 10 000 levels deep gives an answer or a 400, not a crash", () => {
    const r = outcome({
      requestId: "r",
      actorId: "u",
      action: { type: "read", target: "x" },
      context: {},
      trustState: { competence: 1, reliability: 1, integrity: 1 },
      timestamp: "2026-01-01T00:00:00Z",
      deep: deeplyNested(10_000),
    });
    expect(r === "ok" || r instanceof InvalidRequestError).toBe(true);
  });
});
