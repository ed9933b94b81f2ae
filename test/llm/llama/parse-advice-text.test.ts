import { describe, expect, it } from "vitest";
import { parseAdviceText } from "../../../src/llm/llama/backend.js";
import { AdviceParseError } from "../../../src/llm/parse/result.js";

/** What the in-process grammar path makes of the model's JSON (the grammar fixes the shape, not the words). */
describe("parseAdviceText (grammar-constrained JSON from the in-process model)", () => {
  it("turns whatever label the model wrote into the snake_case classification the contract shows", () => {
    const advice = parseAdviceText(
      JSON.stringify({
        classification: "Unusual Timing: Commit!",
        riskLevel: "medium",
        decision: "require_attestation",
        context: "  A 03:10 push\n\n  from a day worker.  ",
      }),
      "json",
      "compact",
    );
    expect(advice).toMatchObject({
      classification: "unusual_timing_commit",
      context: "A 03:10 push from a day worker.",
      decision: "require_attestation",
    });
  });

  it("keeps a label and text that are only symbols or blanks as plainly missing rather than failing", () => {
    const advice = parseAdviceText(
      JSON.stringify({ classification: "!!", riskLevel: "low", decision: "allow", context: " \n " }),
      "json",
      "compact",
    );
    expect(advice).toMatchObject({ classification: "unclassified", context: "(not stated)" });
  });

  it("cleans the four checks of a full answer the same way", () => {
    const advice = parseAdviceText(
      JSON.stringify({
        classification: "Routine Read",
        riskLevel: "low",
        decision: "allow",
        reasoning: {
          roleCheck: "Reads  are\tpermitted.",
          trustCheck: "",
          environment: "Docs.",
          context: "None.",
        },
        policyReferences: [],
      }),
      "json",
      "full",
    );
    expect(advice).toMatchObject({
      classification: "routine_read",
      reasoning: { roleCheck: "Reads are permitted.", trustCheck: "(not stated)" },
    });
  });

  it("refuses JSON of the other shape, naming the missing field", () => {
    expect(() =>
      parseAdviceText(
        JSON.stringify({ classification: "x", riskLevel: "low", decision: "allow" }),
        "json",
        "compact",
      ),
    ).toThrow(AdviceParseError);
    expect(() =>
      parseAdviceText(
        JSON.stringify({ classification: "x", riskLevel: "low", decision: "allow" }),
        "json",
        "compact",
      ),
    ).toThrow(/compact advice schema: context/);
  });
});
