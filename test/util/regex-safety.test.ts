import { describe, expect, it } from "vitest";
import { checkPattern, checkPatternAsync, describeVerdict } from "../../src/util/regex-safety.js";

describe("checkPattern (recheck)", () => {
  it("finds a linear-time pattern safe", () => {
    expect(checkPattern("^(read|view|list)(_|$)", "i")).toEqual({ safe: true });
  });

  it("finds nested quantifiers exponential and gives an input that shows it", () => {
    const v = checkPattern("^(a+)+$");
    expect(v.safe).toBe(false);
    expect(v.reason).toBe("exponential backtracking");
    expect(v.attack).toMatch(/^'a'.*\.repeat\(\d+\)/);
    expect(describeVerdict(v)).toBe(`exponential backtracking, e.g. on ${v.attack}`);
  });

  it("finds an unanchored run followed by a suffix quadratic", async () => {
    const v = await checkPatternAsync("\\/+$");
    expect(v).toMatchObject({ safe: false, reason: "2nd degree polynomial backtracking" });
    expect(v.attack).toContain("'/'.repeat(");
  });

  it("refuses an invalid pattern with the parser's message", () => {
    const v = checkPattern("bill(ing");
    expect(v.safe).toBe(false);
    expect(v.reason).toMatch(/^not a valid regular expression/);
  });

  it("counts running out of time as unsafe, and tries again next time", () => {
    // A big alternation under a word boundary: seconds of analysis, so 1 ms always runs out.
    const slow = String.raw`\b(declin\w*|decreas\w*|dropp?\w*|falling|fell|degrad\w*|worsen\w*|deteriorat\w*|downward|eroding|slipping)\b`;
    expect(checkPattern(slow, "", { timeoutMs: 1 })).toEqual({
      safe: false,
      reason: "the analyser could not show it linear within 1 ms",
    });
    expect(checkPattern(slow, "", { timeoutMs: 1 }).reason).toContain("within 1 ms");
  });
});
