import type { EngineVerdict } from "../../engine/types.js";
import type { Decision, Versions } from "../../schemas/decision.js";

/** Milliseconds to the microsecond, as every decision reports them. */
export const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export type FallbackCause = "deadline" | "queue_closed" | "llm_error" | "shutdown";

const WHY: Record<FallbackCause, (detail: string) => string> = {
  deadline: (d) => `The advisory did not finish within its deadline (${d}); failing closed.`,
  queue_closed: () => "The service was shutting down before the advisory could run; failing closed.",
  llm_error: (d) => `The policy interpreter failed (${d}); failing closed.`,
  shutdown: () => "The service shut down while the advisory was running; failing closed.",
};

/**
 * The fail-closed answer given when the full advisory cannot be had in time: attestation, or deny when
 * the rules alone already deny (a fallback must never be more permissive than the rules). It keeps the
 * rules' classification, risk, signals and tier so that the log and the mode resolution stay accurate.
 */
export function fallbackDecision(
  verdict: EngineVerdict,
  opts: { decisionId: string; versions: Versions; cause: FallbackCause; detail?: string; latencyMs: number },
): Decision {
  const why = WHY[opts.cause](opts.detail ?? "");
  return {
    decisionId: opts.decisionId,
    decision: verdict.decision === "deny" ? "deny" : "require_attestation",
    classification: verdict.classification,
    riskLevel: verdict.riskLevel,
    reasoning: { ...verdict.reasoning, context: `${why} ${verdict.reasoning.context}`.trim() },
    policyReferences: verdict.policyReferences,
    signals: verdict.signals,
    source: "fallback",
    versions: opts.versions,
    latencyMs: round3(opts.latencyMs),
    tier: verdict.tier,
    fallbackCause: opts.cause,
  };
}
