import type { Advisor } from "../advisor/types.js";
import type { Decision } from "../schemas/decision.js";
import { progressBar } from "../util/progress.js";
import { lexicalCoverage } from "./lexical.js";
import { type CoverageMatcher, type ScenarioResult, scoreScenario } from "./score.js";
import { isRefused, type LoadedSuite, type RefusedRequest } from "./suite.js";

/** How a refused request (400) is scored: as a deny, since the caller is allowed nothing. */
function refusalDecision(r: RefusedRequest, advisor: Advisor): Decision {
  const why = r.refused.map((i) => `${i.path}: ${i.message}`).join("; ");
  return {
    decisionId: "refused",
    decision: "deny",
    classification: "invalid_request",
    riskLevel: "high",
    reasoning: {
      roleCheck: `The request was refused before any check (400): ${why}.`,
      trustCheck: "Not evaluated: the request names no actor or action.",
      environment: "Not evaluated: the request was refused.",
      context: "An id that is blank after normalising names nobody; deny: the request is refused.",
    },
    policyReferences: [],
    signals: [],
    source: "engine",
    versions: advisor.versions(),
    latencyMs: 0,
  };
}

export const lexicalMatcher: CoverageMatcher = {
  name: "lexical",
  coverage: async (elements, reasoning) => lexicalCoverage(elements, reasoning),
};

export interface EvalOptions {
  runs?: number;
  matcher?: CoverageMatcher;
  /** Show a progress bar with an ETA on stderr (drawn only on a terminal without NO_COLOR). */
  progress?: boolean;
}

export interface DifficultySummary {
  total: number;
  passed: number;
  correct: number;
  criticalErrors: number;
  reasoningCoverage: number;
}

export interface EvalReport {
  suite: string;
  engine: string;
  total: number;
  passed: number;
  passRate: number;
  decisionAccuracy: number;
  acceptableRate: number;
  criticalErrors: number;
  reasoningCoverage: number;
  runs: number;
  matcher: string;
  versions: Decision["versions"];
  byDifficulty: Record<string, DifficultySummary>;
  results: ScenarioResult[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const round = (x: number) => Math.round(x * 1000) / 1000;

/** Runs every scenario `runs` times through the advisor and scores the suite. */
export async function runSuite(
  advisor: Advisor,
  loaded: LoadedSuite,
  opts: EvalOptions = {},
): Promise<EvalReport> {
  const runs = Math.max(1, opts.runs ?? 1);
  const matcher = opts.matcher ?? lexicalMatcher;
  const scenarios = loaded.suite.scenarios;
  const bar = progressBar({
    title: "eval",
    total: scenarios.length * runs,
    unit: "decisions",
    enabled: opts.progress === true,
  });
  const results: ScenarioResult[] = [];
  try {
    for (let i = 0; i < scenarios.length; i++) {
      const sc = scenarios[i]!;
      const decisions: Decision[] = [];
      for (let r = 0; r < runs; r++) {
        const req = loaded.requests[i]!;
        decisions.push(isRefused(req) ? refusalDecision(req, advisor) : await advisor.adviseParsed(req));
        bar.increment(sc.id);
      }
      results.push(await scoreScenario(sc, decisions, matcher));
    }
  } finally {
    bar.stop();
  }
  const byDifficulty: Record<string, DifficultySummary> = {};
  for (const r of results) {
    byDifficulty[r.difficulty] ??= {
      total: 0,
      passed: 0,
      correct: 0,
      criticalErrors: 0,
      reasoningCoverage: 0,
    };
    const d = byDifficulty[r.difficulty]!;
    d.total++;
    d.passed += r.passed ? 1 : 0;
    d.correct += r.correct ? 1 : 0;
    d.criticalErrors += r.criticalError ? 1 : 0;
    d.reasoningCoverage += r.reasoningCoverage;
  }
  for (const d of Object.values(byDifficulty)) d.reasoningCoverage = round(d.reasoningCoverage / d.total);
  const total = results.length;
  return {
    suite: loaded.suite.suite,
    engine: advisor.engine,
    total,
    passed: results.filter((r) => r.passed).length,
    passRate: round(results.filter((r) => r.passed).length / total),
    decisionAccuracy: round(results.filter((r) => r.correct).length / total),
    acceptableRate: round(results.filter((r) => r.acceptable).length / total),
    criticalErrors: results.filter((r) => r.criticalError).length,
    reasoningCoverage: round(mean(results.map((r) => r.reasoningCoverage))),
    runs,
    matcher: matcher.name,
    versions: advisor.versions(),
    byDifficulty,
    results: results.map((r) => ({
      ...r,
      reasoningCoverage: round(r.reasoningCoverage),
      stability: round(r.stability),
    })),
  };
}
