import { describe, expect, it } from "vitest";
import { hoursInText } from "../../src/engine/time.js";
import { signalIds, situation, verdictUncapped } from "../helpers/engine.js";

/**
 * Issue #12: the detectors' matching is linear in the text's length. Each input is 64 KB built against one
 * former regex (the attack recheck found, or one that survives folding blanks), put in every narrative field
 * the engine reads, past the request's field cap. Each verdict takes tens of milliseconds; the bound leaves
 * room for a loaded machine. The old forms took seconds to minutes on the same inputs (noted per case).
 */

const K = 64 * 1024;
const fill = (unit: string, head = "", tail = "") =>
  head + unit.repeat(Math.ceil((K - head.length - tail.length) / unit.length)) + tail;
/**
 * Tens of milliseconds when quiet; at a load average of 10 on 2 cores one case measured over 1 s. The
 * quickest former form is quadratic and took 0.5 s on 16 KiB, so about 8 s on these 64 KiB: 4 s still
 * separates them.
 */
const LIMIT_MS = 4000;

function timedVerdict(text: string, extra: Record<string, unknown> = {}) {
  const t = performance.now();
  const v = verdictUncapped(
    // An exemplary automation account on a Sunday night: the automation and timing detectors read too.
    situation({
      timestamp: "2026-03-15T03:00:00Z",
      actor_role: "ci_bot",
      t3_tensor: { competence: 0.97, reliability: 0.97, integrity: 0.97 },
    }),
    {
      team_context: text,
      recent_history: text,
      details: text,
      intent: text,
      identity_metrics: { level: "exemplary", coherence: 0.99, trend: text },
      ...extra,
    },
  );
  return { ms: performance.now() - t, v };
}

describe("linear-time matching in the engine (64 KB inputs)", () => {
  const cases: Array<[string, string]> = [
    // measurements.ts BOUNDED: cubic on `NUM\s*(unit)?\s*\(`, 19 s on 2 KB of blanks as a regex.
    ["BOUNDED, blanks after a value", fill("\t", "ao:0 ", "n")],
    ["BOUNDED, a long name that never reaches a colon", fill("ai", "a", "\u0000 (threshold 1")],
    ["BOUNDED, a value of 64 K digits", fill("1", "latency: ", " (threshold 5)")],
    // RANGE, VS_AVERAGE and AGGREGATE shared the same NUM and glue.
    ["RANGE, repeated ranges without a value", fill(" 0(range ", "h\t", "%")],
    ["RANGE, a name running into digits", fill("1", "a", " (range")],
    ["VS_AVERAGE, repeated comparisons", fill(" compared to ", "e0(", "s average")],
    ["AGGREGATE, aggregate words with numbers and no limit", fill("sum 1 ", "", " limit")],
    ["AGGREGATE, blanks after a value", fill(" \t", "sum$0\t", ". limit")],
    ["CORRELATION and DIVERSITY", fill("correlat\t witness diversity x ", "corr", "\u0000")],
    // identity.ts FAILURE: "1,".repeat(8000) took 2.1 s, 77 KB of "0," 40 s (quadratic).
    ["FAILURE, a long run of '1,'", fill("1,")],
    ["FAILURE, a counted word before many words", fill("l ", "0 broken ", "n")],
    // automation.ts RECORD: 16 KB of "1," took 1.3 s.
    ["RECORD, a long run of '1,' before deploys", fill("1,", "", " deploys")],
    ["RECORD, blanks after a count", fill("\t ", "0\t", "s")],
    ["RATE_DROP, repeated rates", fill("passrate\u0000tcuf\u0000", "", ".")],
    // injection.ts INSTRUCTION: a run of '#' was rescanned from each of its characters (16 KiB: 0.5 s).
    ["INSTRUCTION, a run of '#'", fill("##", "m", "r")],
    ["INSTRUCTION, ignore-words with no rules after them", fill("ignore the ", "", "x")],
    ["timing, negations with no hours after them", fill("never not after ")],
    ["timing, strictly-words with no hours after them", fill("only in during ")],
    ["trust ring, vouching words with no group after them", fill("all vouch wl vouchallchall 0ytn ")],
    ["deploy, merges with no production after them", fill("on merge manual gate ")],
  ];

  for (const [name, text] of cases) {
    it(name, () => {
      const { ms } = timedVerdict(text);
      expect(ms).toBeLessThan(LIMIT_MS);
    });
  }

  it("still reads the shapes in a long text", () => {
    const { v, ms } = timedVerdict(fill("x ", "error rate: 12% (threshold: 5%). ", ". 3 failed deploys."));
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(signalIds(v)).toEqual(
      expect.arrayContaining(["measurement_out_of_bounds", "recent_failures", "established_automation"]),
    );
  });

  // time.ts RANGE: `\s*(am|pm)?\s*` split a blank run both ways, 16.8 s on 55 KB; hoursInText now folds blanks.
  it("hoursInText on 64 KB of blanks between an hour and a dash", () => {
    const t = performance.now();
    expect(hoursInText(fill("\t", "0\t", "\u00000-0"))).toBeUndefined();
    expect(performance.now() - t).toBeLessThan(LIMIT_MS);
    expect(hoursInText("we work 9 \t am  to\n5 pm")).toEqual({ start: 9, end: 17 });
  });
});
