import Table from "cli-table3";
import type { Advisor } from "../advisor/types.js";
import { loadVariant } from "../prompts/registry.js";
import { type EvalOptions, type EvalReport, runSuite } from "./run.js";
import type { LoadedSuite } from "./suite.js";

/** One prompt variant's numbers on a suite, for side-by-side comparison (`eval --prompt a,b`). */
export interface VariantSummary {
  prompt: string;
  version: string | null;
  passRate: number;
  decisionAccuracy: number;
  acceptableRate: number;
  criticalErrors: number;
  reasoningCoverage: number;
  /** Mean over scenarios of the share of runs giving the modal decision. */
  meanStability: number;
  /** Scenarios whose runs did not all agree. */
  unstable: string[];
  /** Scenarios answered by the fail-closed fallback (unparseable answers, timeouts). */
  fallbacks: number;
  meanLatencyMs: number;
}

export interface VariantComparison {
  suite: string;
  engine: string;
  runs: number;
  matcher: string;
  comparison: VariantSummary[];
  reports: EvalReport[];
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Splits "--prompt a,b" and checks that every variant exists before any model is loaded. */
export function promptVariantList(prompt: string | undefined): string[] {
  if (!prompt) return [];
  const ids = prompt
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) loadVariant(id); // throws PromptError naming the unknown variant and the known ones
  return [...new Set(ids)];
}

export function summariseVariant(prompt: string, r: EvalReport): VariantSummary {
  return {
    prompt,
    version: r.versions.prompt,
    passRate: r.passRate,
    decisionAccuracy: r.decisionAccuracy,
    acceptableRate: r.acceptableRate,
    criticalErrors: r.criticalErrors,
    reasoningCoverage: r.reasoningCoverage,
    meanStability: round(mean(r.results.map((x) => x.stability))),
    unstable: r.results.filter((x) => x.stability < 1).map((x) => x.id),
    fallbacks: r.results.filter((x) => x.source === "fallback").length,
    meanLatencyMs: round(mean(r.results.map((x) => x.latencyMs))),
  };
}

/**
 * Runs the suite once per variant, each on an advisor built for it (the model is loaded per variant, as the
 * prefix is evaluated per variant anyway), and summarises them side by side.
 */
export async function compareVariants(
  loaded: LoadedSuite,
  variants: string[],
  advisorFor: (variant: string) => Promise<Advisor>,
  opts: EvalOptions = {},
): Promise<VariantComparison> {
  const reports: EvalReport[] = [];
  for (const v of variants) {
    const advisor = await advisorFor(v);
    try {
      reports.push(await runSuite(advisor, loaded, opts));
    } finally {
      await advisor.close();
    }
  }
  const first = reports[0];
  return {
    suite: loaded.suite.suite,
    engine: first?.engine ?? "",
    runs: first?.runs ?? 1,
    matcher: first?.matcher ?? "",
    comparison: reports.map((r, i) => summariseVariant(variants[i] ?? "", r)),
    reports,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatComparison(c: VariantComparison): string {
  const t = new Table({
    head: [
      "prompt",
      "version",
      "passed",
      "decisions",
      "acceptable",
      "critical",
      "coverage",
      "stability",
      "fallbacks",
      "ms/scenario",
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const s of c.comparison) {
    t.push([
      s.prompt,
      s.version ?? "-",
      pct(s.passRate),
      pct(s.decisionAccuracy),
      pct(s.acceptableRate),
      s.criticalErrors,
      pct(s.reasoningCoverage),
      pct(s.meanStability),
      s.fallbacks,
      s.meanLatencyMs.toFixed(0),
    ]);
  }
  const unstable = c.comparison
    .filter((s) => s.unstable.length > 0)
    .map((s) => `  ${s.prompt}: decisions varied across runs on ${s.unstable.join(", ")}`);
  return [
    `suite ${c.suite} · engine ${c.engine} · ${c.runs} run(s) per scenario · coverage by ${c.matcher} matcher`,
    t.toString(),
    ...unstable,
  ].join("\n");
}
