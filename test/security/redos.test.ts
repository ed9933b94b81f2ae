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
  {
    file: "src/server/plugins/errors.ts",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of the expression, not a template
    expression: "new RegExp(`^${source}$`)",
    reason:
      "a registered route's URL as an anchored pattern: escaped literals, [^/]+ per parameter and at most one .* (a wildcard route); matched against request paths for 405, linear",
  },
  {
    file: "src/store/mask.ts",
    expression: 'new RegExp(sorted.map(flexible).join("|"), "gi")',
    reason:
      "an alternation of the request's masked values, each an escaped literal whose words are joined by \\s+ (literal words between, no overlap): linear in the text scrubbed",
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
      if (ALLOWED.some((k) => k.file === s.file && k.source === s.source)) continue;
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

  it("the allow list holds only regexes that are still there", () => {
    // Existence only: a fuzzed verdict may call a listed regex safe on one run and not on the next.
    const stale = ALLOWED.filter(
      (k) => !inventory.sites.some((s) => s.file === k.file && s.source === k.source),
    ).map((k) => `${k.file} ${show(k.source, "")}`);
    expect(stale, `entries to remove (fixed or gone):\n${stale.join("\n")}`).toEqual([]);
  });
});
