import { describe, expect, it } from "vitest";
import { conceptStems, lexicalCoverage, matchElementLexically } from "../../src/eval/lexical.js";

describe("lexical reasoning-coverage matcher", () => {
  it("drops dots around words, quickly even for a long run of them", () => {
    expect(conceptStems("...rollback. ..deploy..")).toEqual(conceptStems("rollback deploy"));
    // Was quadratic (/^\.+|\.+$/g rescans the run from each dot): seconds for this word.
    const started = performance.now();
    conceptStems(`x${".".repeat(60_000)}x`);
    expect(performance.now() - started).toBeLessThan(200);
  });
  it("finds an exact phrase", () => {
    expect(matchElementLexically("borderline trust", "This is borderline trust for a deploy.").how).toBe(
      "exact",
    );
  });
  it("finds the same idea in other words (stems and synonyms within one chunk)", () => {
    expect(
      matchElementLexically("additional verification", "Further attestation is recommended.").matched,
    ).toBe(true);
    expect(matchElementLexically("insufficient role", "The role lacks the needed permission.").matched).toBe(
      true,
    );
    expect(
      matchElementLexically("need oversight", "A human approver must supervise: it requires supervision.")
        .matched,
    ).toBe(true);
  });
  it("does not match words scattered across unrelated clauses", () => {
    expect(
      matchElementLexically(
        "high-risk environment",
        "Risk is low. The environment is staging; trust is high.",
      ).matched,
    ).toBe(false);
  });
  it("does not match unrelated reasoning", () => {
    const r = lexicalCoverage(
      ["exemplary identity", "automation", "established pattern"],
      "Role member may read public docs; sufficient trust.",
    );
    expect(r.coverage).toBe(0);
  });
  it("counts an empty element list as full coverage", () => {
    expect(lexicalCoverage([], "anything").coverage).toBe(1);
  });
});

describe("the most frequent decision across runs", () => {
  it("breaks ties toward the most cautious decision, whatever the order of runs", async () => {
    const { modalDecision } = await import("../../src/eval/score.js");
    expect(modalDecision(["require_attestation", "deny"])).toBe("deny");
    expect(modalDecision(["allow", "require_attestation"])).toBe("require_attestation");
    expect(modalDecision(["allow", "allow", "deny"])).toBe("allow");
  });
});
