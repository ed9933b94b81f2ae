import { check, checkSync, type Diagnostics, type Parameters } from "recheck";

/**
 * ReDoS analysis of regular expressions with recheck (https://github.com/makenowjust-labs/recheck): it
 * decides whether a backtracking engine such as V8's can take super-linear time on some input, and if so
 * builds such an input. Used to refuse policy files whose patterns could stall a decision, and by the test
 * suite on every regex in the source.
 */

/** The analyser's verdict on one pattern. */
export interface PatternVerdict {
  /** True when the analyser showed matching takes linear time at worst. */
  safe: boolean;
  /** Why it is not safe: the worst-case growth ("exponential", "2nd degree polynomial") or why analysis failed. */
  reason?: string;
  /** A JavaScript expression that builds a slow input, e.g. `'a'.repeat(31) + '\x00'`. */
  attack?: string;
}

export interface CheckOptions {
  /** Analysis time limit; running out counts as unsafe (the pattern could not be shown linear). */
  timeoutMs?: number;
}

/** Long enough for any pattern a policy needs (those take milliseconds), short enough to bound a load. */
export const DEFAULT_TIMEOUT_MS = 10_000;

function verdictOf(d: Diagnostics, timeoutMs: number): PatternVerdict {
  if (d.status === "safe") return { safe: true };
  if (d.status === "vulnerable") {
    return { safe: false, reason: `${d.complexity.summary} backtracking`, attack: d.attack.pattern };
  }
  const e = d.error;
  switch (e.kind) {
    case "timeout":
      return { safe: false, reason: `the analyser could not show it linear within ${timeoutMs} ms` };
    case "invalid":
      return { safe: false, reason: `not a valid regular expression: ${e.message}` };
    case "unsupported":
      return { safe: false, reason: `uses a construct the analyser cannot check: ${e.message}` };
    case "cancel":
      return { safe: false, reason: "the analysis was cancelled" };
    default:
      return { safe: false, reason: `the analyser failed: ${e.message}` };
  }
}

/** Verdicts that do not depend on the machine's speed; a timeout may go the other way next time. */
const cache = new Map<string, PatternVerdict>();
const CACHE_LIMIT = 2048;

function remember(key: string, v: PatternVerdict): PatternVerdict {
  if (v.safe || v.attack !== undefined || v.reason?.startsWith("not a valid")) {
    if (cache.size >= CACHE_LIMIT) cache.clear(); // policies have tens of patterns: only a leak guard
    cache.set(key, v);
  }
  return v;
}

/**
 * recheck's own defaults but for two things. The automaton size: above 3,000 states (big alternations
 * under \b) its ambiguity search took 10-30 s a pattern here, so those go to its fuzzer. And the fuzzer's
 * wall-clock limits: by default an attack string counts as slow when recheck's VM runs past 1 s
 * (`attackTimeout`) or 250 ms (`incubationTimeout`), so on a loaded machine a linear pattern was reported
 * vulnerable (three engine patterns, on a 2-core machine at load 12, whose "attacks" run in under 1 ms).
 * Without them the fuzzer judges by the characters its VM reads (`attackLimit`, `incubationLimit`), which
 * do not depend on the machine; with the fixed seed its verdict is the same on every run.
 */
export const ANALYSIS_PARAMS: Readonly<Parameters> = {
  maxNFASize: 3000,
  attackTimeout: null,
  incubationTimeout: null,
  randomSeed: 0,
};
const params = (timeoutMs: number): Parameters => ({ ...ANALYSIS_PARAMS, timeout: timeoutMs });

/**
 * Checks one pattern, blocking until the analysis ends (at most `timeoutMs`). Meant for load time:
 * results are memoised, so loading the same policy again costs nothing.
 */
export function checkPattern(source: string, flags = "", opts: CheckOptions = {}): PatternVerdict {
  const key = `${flags}/${source}`;
  const known = cache.get(key);
  if (known) return known;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return remember(key, verdictOf(checkSync(source, flags, params(timeoutMs)), timeoutMs));
}

/** The same check without blocking the thread, so that several can run at once. */
export async function checkPatternAsync(
  source: string,
  flags = "",
  opts: CheckOptions = {},
): Promise<PatternVerdict> {
  const key = `${flags}/${source}`;
  const known = cache.get(key);
  if (known) return known;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return remember(key, verdictOf(await check(source, flags, params(timeoutMs)), timeoutMs));
}

/** One line for a message: why the pattern is refused and the input that shows it. */
export function describeVerdict(v: PatternVerdict): string {
  if (v.safe) return "linear-time";
  return v.attack === undefined ? (v.reason ?? "unsafe") : `${v.reason}, e.g. on ${v.attack}`;
}
