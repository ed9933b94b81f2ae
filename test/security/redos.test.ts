import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ANALYSIS_PARAMS,
  checkPatternAsync,
  describeVerdict,
  type PatternVerdict,
} from "../../src/util/regex-safety.js";
import { findPolicyPatterns, findRegexes, type RegexInventory } from "./regex-sources.js";

/**
 * Linear-time matching everywhere (issue #12): every regex the source builds and every pattern a bundled
 * policy carries is run through recheck; any that can backtrack super-linearly fails this test with its
 * file:line and an input that shows it. Rewrite such a regex with bounded, non-overlapping quantifiers.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Per-pattern analysis budget: ample on a loaded 2-core machine; running out is a failure to look into. */
const TIMEOUT_MS = 30_000;
/** Analyses in flight at once (the machine has 2 cores). */
const CONCURRENCY = 2;

/**
 * `new RegExp(x)` whose pattern is data, not a constant in the code, keyed by file and the call as written.
 * Each needs a reason why its patterns are checked elsewhere.
 */
const DYNAMIC_SITES: ReadonlyArray<{ file: string; expression: string; reason: string }> = [
  {
    file: "src/engine/compiled.ts",
    expression: 'new RegExp(p, "i")',
    reason: "policy action-class and resource patterns: refused at load by src/policy/schema.ts",
  },
  {
    file: "src/policy/schema.ts",
    expression: "new RegExp(s, PATTERN_FLAGS)",
    reason: "compiles a policy pattern only to validate it before the ReDoS check; never matched",
  },
];

/**
 * TEMPORARY: vulnerable regexes in src/engine/ and src/advisor/, which are being rewritten on another
 * branch; REDOS-ENGINE-FINDINGS.md (left in the sec-redos worktree) gives each one's attack, its measured
 * cost in V8 and a suggested linear rewrite. Keyed by file and pattern source (not line, which moves), so a
 * rewritten pattern is analysed afresh. Every regex recheck flagged in several cold runs is here: its fuzzer
 * is randomised and flags some of them only sometimes. Empty this list once those rewrites land; an entry
 * whose regex is gone fails the test, so a fixed one cannot linger.
 */
const KNOWN_ENGINE_FINDINGS: ReadonlyArray<{ file: string; source: string }> = [
  {
    file: "src/engine/signals/automation.ts",
    source:
      "\\b(\\d[\\d,]*(?:\\.\\d+)?k?)\\+?\\s+(?:successful|clean|green|error[- ]free|flawless)?\\s*(?:automated\\s+|unattended\\s+)?(deploys?|deployments?|runs?|builds?|releases?|pipelines?|jobs?)\\b|\\b(established|long|proven|spotless|clean) (track )?record\\b",
  },
  {
    file: "src/engine/signals/deploy-impact.ts",
    source:
      "\\b(auto[- ]?(matically)?[- ]?(deploy|deployed|deploys|deploying|released?|ships?|shipped|rolled out|rolls out|applied|synced|promoted)|auto[- ]?deploy\\w*|continuous(ly)?[- ]deploy\\w*|continuous delivery|deployed automatically|rolled out automatically|released automatically|applied automatically|goes? (straight|directly|live)|ships? (straight|directly)|git-?ops|auto[- ]?sync\\w*|(on|upon|after) merge[^.;]{0,30}\\b(deploy|live|production|prod|rolled out)|merg\\w* (to|into) \\w+ (triggers?|deploys?|ships?)|triggers? an? (automatic |automated )?(production |prod )?(deploy|release|rollout))\\b",
  },
  {
    file: "src/engine/signals/deploy-impact.ts",
    source:
      "\\b(does not|doesn't|do not|don't|never|no longer|not|without)\\b[^.;]{0,15}\\bauto[- ]?(matically)?[- ]?deploy|\\bmanual (deploy\\w*|approval|promotion|release|gate)\\b[^.;]{0,20}\\b(required|needed|step)|\\brequires? (a )?manual\\b",
  },
  {
    file: "src/engine/signals/identity.ts",
    source:
      "\\b(declin\\w*|decreas\\w*|dropp?\\w*|falling|fell|degrad\\w*|worsen\\w*|deteriorat\\w*|downward|eroding|slipping)\\b",
  },
  {
    file: "src/engine/signals/identity.ts",
    source:
      "\\b(\\d[\\d,]*|no|zero|one|a|an|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many|numerous)\\s+(?:recent\\s+|consecutive\\s+|straight\\s+)?(?:failed|failing|unsuccessful|broken|botched|rolled[- ]back|reverted|aborted)\\s+(?:\\w+\\s+)?(deploy\\w*|build\\w*|commit\\w*|release\\w*|attempt\\w*|run\\w*|migration\\w*|job\\w*|change\\w*|login\\w*|rollout\\w*|push\\w*|merge\\w*)|\\b(\\d[\\d,]*|no|zero|one|a|an|two|three|four|five|several|multiple|many)\\s+(?:\\w+\\s+)?(failures|errors|incidents caused|outages caused|rollbacks)\\b",
  },
  {
    file: "src/engine/signals/identity.ts",
    source:
      "\\b(success|pass|approval)\\s*rate\\b[^.;]{0,30}\\b(from)\\s*(\\d+(?:\\.\\d+)?)\\s*%?\\s*(to)\\s*(\\d+(?:\\.\\d+)?)\\s*%?",
  },
  {
    file: "src/engine/signals/incident.ts",
    source:
      "\\b((active|ongoing|open|current|major|live|declared|critical)\\s+(production\\s+|prod\\s+|site\\s+|customer[- ]facing\\s+)?(incident|outage)|incident\\s+(is\\s+)?(in progress|ongoing|active|open|declared|underway)|outage\\b|sev[- ]?[0-2]\\b|\\bp[01]\\b incident|site (is )?down|service (is )?down|emergency|war[- ]room)",
  },
  {
    file: "src/engine/signals/injection.ts",
    source:
      '\\b(ignore|disregard|forget|override|bypass|skip)\\b[^.;]{0,30}\\b(previous|prior|above|earlier|all|any|the|your|these)?\\s*(instructions?|rules?|polic(y|ies)|guidelines?|prompt|checks?|restrictions?|review|attestation|verification|approval)\\b|\\b(you (must|should|will|are to|have to)|please|just|simply)\\s+(allow|approve|grant|permit|answer|respond|output|return|classify|mark|say)\\b|\\b(answer|respond|reply|output|return)\\s+(only\\s+)?(with\\s+)?["\'`]?(allow|approved|yes)\\b|"?decision"?\\s*[:=]\\s*"?(allow|approve)|\\bclassification\\s*:|\\brisk level\\s*:\\s*\\w+|\\bsystem\\s*(prompt|message|override|instruction)|<\\|?\\s*(im_start|im_end|system|assistant|user|endoftext)|\\[\\/?(inst|system)\\]|#{2,}\\s*(instruction|system|response|assistant)|\\b(admin|developer|root|god)\\s+mode\\b|\\bdo not (require|ask for|request) (attestation|approval|review|verification)|\\bno (attestation|verification|review|approval) (is )?(needed|required|necessary)',
  },
  {
    file: "src/engine/signals/measurements.ts",
    source:
      "([a-z][a-z0-9 _/-]{1,40}?)\\s*[:=]\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)\\s*(?:ms|s|x|per \\w+)?\\s*\\(\\s*(threshold|limit|max(?:imum)?|min(?:imum)?|baseline|expected|target|cap|allowed|bound|ceiling|floor)\\s*[:=]?\\s*(?:of\\s*)?([<>]=?)?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)",
  },
  {
    file: "src/engine/signals/measurements.ts",
    source:
      "([a-z][a-z0-9 _/-]{0,40}?)\\s*[:=]?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)\\s*(?:ms|s|x|per \\w+)?\\s*\\(\\s*(?:normal|usual|typical|expected|baseline|historical|healthy)?\\s*range\\s*[:=]?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)\\s*(?:-|–|to)\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)",
  },
  {
    file: "src/engine/signals/measurements.ts",
    source:
      "([a-z][a-z0-9 _/-]{0,40}?)\\s*[:=]?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)\\s*\\(\\s*(?:vs\\.?\\s*|versus\\s*|compared to\\s*)?(?:the\\s+)?(?:team|org|organi[sz]ation|peer|group|fleet|company|cohort|historical)?\\s*(?:average|avg|mean|median|baseline|norm|typical)\\s*(?:is|of|:|=)?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)",
  },
  {
    file: "src/engine/signals/measurements.ts",
    source:
      "\\b(total|cumulative|aggregate|combined|sum|daily|weekly|monthly|so far|running)\\b[^.;()]{0,50}?([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)[^.;]{0,50}?\\b(limit|cap|ceiling|budget|quota|maximum|allowance|threshold)\\b\\s*(?:of|is|:|=|at)?\\s*([$€£]?\\s?-?\\d[\\d,]*(?:\\.\\d+)?\\s*(?:%|k\\b|m\\b)?)",
  },
  {
    file: "src/engine/signals/measurements.ts",
    source:
      "\\bcorrelat\\w*\\s*(?:score|coefficient|index)?\\b[^.;\\d]{0,40}?(-?0?\\.\\d+|1(?:\\.0+)?|\\d{1,3}\\s*%)",
  },
  {
    file: "src/engine/signals/measurements.ts",
    source: "\\bwitness(?:es)?\\s*diversity\\b[^.;\\d]{0,30}?(0?\\.\\d+|1(?:\\.0+)?|\\d{1,3}\\s*%)",
  },
  {
    file: "src/engine/signals/timing.ts",
    source:
      "\\b(night[- ]?shift|nights?\\b.{0,20}\\b(usual|normal|regular|typical)|works? (at |the )?nights?|overnight (shift|worker|on-?call)|on[- ]?call (rotation|engineer|this week|tonight)|is on[- ]?call|late[- ]night (work|commits|worker)|(usually|often|regularly|typically|always|mostly) (works?|commits?|deploys?|active|online)[^.;]{0,30}\\b(night|late|evening|early morning|weekends?|off[- ]hours)|nocturnal|different time ?zone|works? (weekends|off[- ]hours|irregular hours)|follow[- ]the[- ]sun)\\b",
  },
  {
    file: "src/engine/signals/timing.ts",
    source:
      "\\b(never|rarely|seldom|has not ever|hasn't ever|not once)\\b[^.;]{0,40}\\b(outside|after|before|at night|late|weekends?|off[- ]hours|evenings?|early)\\b|\\b(only|always|strictly|consistently|exclusively)\\b[^.;]{0,30}\\b(during|within|in|between)\\b[^.;]{0,20}\\b(business|office|working|work|normal|regular|day(time)?)\\b|\\b(only|always|strictly|consistently) (works?|commits?|deploys?|active)\\b[^.;]{0,30}\\d{1,2}(:\\d{2})?\\s*(am|pm)?\\s*(-|to)\\s*\\d{1,2}|\\b(9|nine)[- ]to[- ](5|five) (worker|schedule)\\b",
  },
  {
    file: "src/engine/signals/timing.ts",
    source:
      "\\b(never|rarely|doesn't|does not|not)\\b[^.;]{0,30}\\bweekends?\\b|\\b(weekdays?|monday (to|through|-) friday) only\\b|\\bonly (on )?weekdays\\b",
  },
  {
    file: "src/engine/signals/trust-inflation.ts",
    source:
      "\\b((closed|tight|small|isolated|insular|single|same)\\s+(group|circle|cluster|clique|network|team|org\\w*|community)\\b[^.;]{0,40}\\b(vouch|endors|attest|witness|rat|trust)\\w*|(vouch|endors|attest|witness|rat)\\w*\\b[^.;]{0,40}\\b(each other|one another|mutual\\w*|reciprocal\\w*|in a (ring|loop|circle)|only (by )?(members|friends|accounts) of)|sybil|collu\\w*|sock ?puppet|circular (trust|endorse\\w*|vouch\\w*|attest\\w*)|ring of (accounts|identities|members)|(all|every)\\s+(\\d+\\s+)?(witness\\w*|vouch\\w*|endorse\\w*|attest\\w*|reviewers?)\\b[^.;]{0,30}\\b(same|one|single)\\s+(team|org\\w*|group|company|cluster|ip|subnet|household)|trust (score )?(rose|jumped|spiked|surged|shot up|increased)\\b[^.;]{0,30}\\b(rapidly|quickly|sharply|suddenly|overnight|within|in (a|one|two|\\d+) (day|days|hours?|week)))",
  },
  {
    file: "src/engine/time.ts",
    source:
      "\\b(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm)?\\s*(?:-|–|—|to|until|till|and)\\s*(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm)?\\b",
  },
];

/** Allow-list of analysed regexes accepted although the analyser does not call them safe. Keep it empty. */
const ALLOWED: ReadonlyArray<{ file: string; source: string; reason: string }> = [];

/**
 * Verdicts survive across runs in node_modules/.cache (never committed): recheck takes seconds on the big
 * detector patterns, and its verdict depends only on its version and parameters, the pattern and its flags.
 * Timeouts are never stored. REDOS_CACHE=off analyses everything afresh.
 */
const CACHE_FILE = join(ROOT, "node_modules", ".cache", "policy-advisor", "redos-verdicts.json");
const RECHECK_VERSION = (
  JSON.parse(readFileSync(join(ROOT, "node_modules", "recheck", "package.json"), "utf8")) as {
    version: string;
  }
).version;
const useCache = process.env.REDOS_CACHE !== "off";

function loadCache(): Record<string, PatternVerdict> {
  if (!useCache) return {};
  try {
    return JSON.parse(readFileSync(CACHE_FILE, "utf8")) as Record<string, PatternVerdict>;
  } catch {
    return {}; // absent or unreadable: analyse afresh
  }
}

const cacheKey = (source: string, flags: string) =>
  createHash("sha256")
    .update(`${RECHECK_VERSION}\0${JSON.stringify(ANALYSIS_PARAMS)}\0${TIMEOUT_MS}\0${flags}\0${source}`)
    .digest("hex");

const lastsOnDisk = (v: PatternVerdict) => v.safe || v.attack !== undefined;

/** Analyses each distinct (source, flags) once, CONCURRENCY at a time. */
async function analyse(
  patterns: Array<{ source: string; flags: string }>,
): Promise<Map<string, PatternVerdict>> {
  const cache = loadCache();
  const verdicts = new Map<string, PatternVerdict>();
  const todo: Array<{ source: string; flags: string; key: string }> = [];
  for (const { source, flags } of patterns) {
    const key = cacheKey(source, flags);
    if (verdicts.has(key) || todo.some((t) => t.key === key)) continue;
    const cached = cache[key];
    if (cached) verdicts.set(key, cached);
    else todo.push({ source, flags, key });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let t = todo[next++]; t; t = todo[next++]) {
        const v = await checkPatternAsync(t.source, t.flags, { timeoutMs: TIMEOUT_MS });
        verdicts.set(t.key, v);
        if (lastsOnDisk(v)) cache[t.key] = v;
      }
    }),
  );
  if (useCache && todo.length) {
    mkdirSync(dirname(CACHE_FILE), { recursive: true });
    writeFileSync(CACHE_FILE, JSON.stringify(cache));
  }
  return verdicts;
}

const show = (source: string, flags: string) => `/${source}/${flags}`;

describe("linear-time matching (ReDoS analysis with recheck)", () => {
  let inventory: RegexInventory;
  const policyPatterns = findPolicyPatterns(ROOT, "data/policies");
  let verdicts: Map<string, PatternVerdict>;
  const verdictOf = (source: string, flags: string): PatternVerdict => {
    const v = verdicts.get(cacheKey(source, flags));
    if (!v) throw new Error(`no verdict for ${show(source, flags)}`);
    return v;
  };

  beforeAll(async () => {
    inventory = findRegexes(ROOT, "src");
    const started = performance.now();
    verdicts = await analyse([
      ...inventory.sites,
      ...policyPatterns.map((p) => ({ source: p.source, flags: "i" })),
    ]);
    console.info(
      `recheck ${RECHECK_VERSION}: ${verdicts.size} distinct patterns in ${Math.round(performance.now() - started)} ms`,
    );
  }, 600_000);

  it("finds the regexes in src/ (a sanity check of the extractor)", () => {
    expect(inventory.sites.length).toBeGreaterThan(100);
    expect(inventory.sites.some((s) => s.file === "src/llm/parse/text.ts" && s.kind === "literal")).toBe(
      true,
    );
    expect(inventory.sites.some((s) => s.file.startsWith("src/engine/") && s.kind === "constructor")).toBe(
      true,
    );
    expect(policyPatterns.length).toBeGreaterThan(20);
  });

  it("every regex literal and constant new RegExp(...) in src/ is linear-time", () => {
    const failures: string[] = [];
    for (const s of inventory.sites) {
      const v = verdictOf(s.source, s.flags);
      if (v.safe) continue;
      const known = (list: ReadonlyArray<{ file: string; source: string }>) =>
        list.some((k) => k.file === s.file && k.source === s.source);
      if (known(KNOWN_ENGINE_FINDINGS) || known(ALLOWED)) continue;
      failures.push(`${s.file}:${s.line} ${show(s.source, s.flags)}: ${describeVerdict(v)}`);
    }
    expect(failures, `super-linear regexes:\n${failures.join("\n")}`).toEqual([]);
  });

  it("every pattern in data/policies/*.yaml is linear-time (as compiled, case-insensitive)", () => {
    const failures = policyPatterns
      .map((p) => ({ p, v: verdictOf(p.source, "i") }))
      .filter(({ v }) => !v.safe)
      .map(({ p, v }) => `${p.file}:${p.line} ${p.path} ${show(p.source, "i")}: ${describeVerdict(v)}`);
    expect(failures, `super-linear policy patterns:\n${failures.join("\n")}`).toEqual([]);
  });

  it("every RegExp built from data is accounted for", () => {
    const unexplained = inventory.dynamic
      .filter((d) => !DYNAMIC_SITES.some((k) => k.file === d.file && k.expression === d.expression))
      .map((d) => `${d.file}:${d.line} ${d.expression}`);
    expect(unexplained, `RegExp from non-constant patterns:\n${unexplained.join("\n")}`).toEqual([]);
    const stale = DYNAMIC_SITES.filter(
      (k) => !inventory.dynamic.some((d) => d.file === k.file && d.expression === k.expression),
    ).map((k) => `${k.file} ${k.expression}`);
    expect(stale, "DYNAMIC_SITES entries that match nothing: remove them").toEqual([]);
  });

  it("the known-findings and allow lists hold only regexes that are still there", () => {
    // Existence only: a fuzzed verdict may call a listed regex safe on one run and not on the next.
    const stale = [...KNOWN_ENGINE_FINDINGS, ...ALLOWED]
      .filter((k) => !inventory.sites.some((s) => s.file === k.file && s.source === k.source))
      .map((k) => `${k.file} ${show(k.source, "")}`);
    expect(stale, `entries to remove (fixed or gone):\n${stale.join("\n")}`).toEqual([]);
    expect(KNOWN_ENGINE_FINDINGS.every((k) => /^src\/(engine|advisor)\//.test(k.file))).toBe(true);
  });
});
