import type { DecisionValue } from "../schemas/common.js";
import type { Decision } from "../schemas/decision.js";
import type { ElementMatch } from "./lexical.js";
import type { Scenario } from "./suite.js";

/** How a suite's reasoning coverage is measured: lexical here; embeddings when a model is loaded. */
export interface CoverageMatcher {
  readonly name: string;
  coverage(elements: string[], reasoning: string): Promise<{ coverage: number; matches: ElementMatch[] }>;
}

export interface ScenarioResult {
  id: string;
  difficulty: string;
  expected: DecisionValue;
  decision: DecisionValue;
  decisions: DecisionValue[];
  correct: boolean;
  acceptable: boolean;
  criticalError: boolean;
  structureComplete: boolean;
  passed: boolean;
  reasoningCoverage: number;
  /** Share of runs that gave the most frequent decision (1 with a single run). */
  stability: number;
  classification: string;
  riskLevel: string;
  source: string;
  matches: ElementMatch[];
  latencyMs: number;
}

/** The most frequent decision; ties go to the most cautious one (deny, then require_attestation). */
export function modalDecision(ds: DecisionValue[]): DecisionValue {
  const order: DecisionValue[] = ["deny", "require_attestation", "allow"];
  const count = (d: DecisionValue) => ds.filter((x) => x === d).length;
  const top = Math.max(...order.map(count));
  return order.find((d) => count(d) === top && top > 0) ?? "require_attestation";
}

export const reasoningText = (d: Decision) =>
  [d.reasoning.roleCheck, d.reasoning.trustCheck, d.reasoning.environment, d.reasoning.context].join(" ");

/** Scores one scenario as FORMAT.md says the reference scored it. */
export async function scoreScenario(
  sc: Scenario,
  runs: Decision[],
  matcher: CoverageMatcher,
): Promise<ScenarioResult> {
  const decisions = runs.map((d) => d.decision);
  const decision = modalDecision(decisions);
  const representative = runs.find((d) => d.decision === decision) ?? runs[0]!;
  const exp = sc.expected;
  const correct = decision === exp.decision;
  // As INTERFACES.md's example shows: a correct decision is also acceptable; one listed in alsoAcceptable
  // is acceptable without being counted as correct (FORMAT.md).
  const acceptable = correct || exp.alsoAcceptable.includes(decision);
  const criticalError =
    decision === "allow" && exp.decision !== "allow" && !exp.alsoAcceptable.includes("allow");
  const r = representative.reasoning;
  const structureComplete = Boolean(
    representative.classification &&
      representative.decision &&
      r.roleCheck &&
      r.trustCheck &&
      r.environment &&
      r.context,
  );
  const { coverage, matches } = await matcher.coverage(exp.reasoningElements, reasoningText(representative));
  const stability = decisions.filter((d) => d === decision).length / decisions.length;
  return {
    id: sc.id,
    difficulty: sc.difficulty,
    expected: exp.decision,
    decision,
    decisions,
    correct,
    acceptable,
    criticalError,
    structureComplete,
    passed: correct && coverage >= 0.5 && structureComplete,
    reasoningCoverage: coverage,
    stability,
    classification: representative.classification,
    riskLevel: representative.riskLevel,
    source: representative.source,
    matches,
    latencyMs: runs.reduce((a, d) => a + d.latencyMs, 0) / runs.length,
  };
}
