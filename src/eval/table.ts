import Table from "cli-table3";
import type { EvalReport } from "./run.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The readable form of an eval report: per scenario, per difficulty, and the totals. */
export function formatReport(r: EvalReport): string {
  const scen = new Table({
    head: [
      "id",
      "difficulty",
      "expected",
      "decision",
      "ok",
      "coverage",
      r.runs > 1 ? "stability" : "source",
      "classification",
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const x of r.results) {
    const ok = x.correct
      ? x.passed
        ? "pass"
        : "correct"
      : x.acceptable
        ? "acceptable"
        : x.criticalError
          ? "CRITICAL"
          : "wrong";
    scen.push([
      x.id,
      x.difficulty,
      x.expected,
      x.decision,
      ok,
      pct(x.reasoningCoverage),
      r.runs > 1 ? pct(x.stability) : x.source,
      x.classification,
    ]);
  }
  const diff = new Table({
    head: ["difficulty", "scenarios", "passed", "correct", "critical", "coverage"],
    style: { head: [], border: [], compact: true },
  });
  for (const [name, d] of Object.entries(r.byDifficulty)) {
    diff.push([name, d.total, d.passed, d.correct, d.criticalErrors, pct(d.reasoningCoverage)]);
  }
  const missing = r.results
    .filter((x) => x.matches.some((m) => !m.matched))
    .map(
      (x) =>
        `  ${x.id}: not expressed: ${x.matches
          .filter((m) => !m.matched)
          .map((m) => `"${m.element}"`)
          .join(", ")}`,
    );
  return [
    `suite ${r.suite} · engine ${r.engine} · ${r.runs} run(s) per scenario · coverage by ${r.matcher} matcher · policy ${r.versions.policy}`,
    scen.toString(),
    diff.toString(),
    `passed ${r.passed}/${r.total} (${pct(r.passRate)}) · decisions ${pct(r.decisionAccuracy)} correct, ${pct(r.acceptableRate)} acceptable · critical errors ${r.criticalErrors} · reasoning coverage ${pct(r.reasoningCoverage)}`,
    ...(missing.length ? ["reasoning elements not found:", ...missing] : []),
  ].join("\n");
}
