import type { EngineVerdict } from "../engine/types.js";
import type { DecisionValue } from "../schemas/common.js";
import type { Decision } from "../schemas/decision.js";

/**
 * The one fail-closed answer. Whatever goes wrong on the way to advice (a deadline, a shutdown, a model
 * that fails, times out or answers nonsense), the answer is require_attestation, or the rules' deny when
 * they deny: a failure never loosens anything, and it always says why.
 */

/** Why the fail-closed answer was given: a closed set, so that logs and metrics can count each cause. */
export const FAIL_CLOSED_CAUSES = [
  "deadline",
  "queue_closed",
  "shutdown",
  "llm_error",
  "timeout",
  "aborted",
  "parse_failure",
  "circuit_open",
  "http_status",
  "network",
  "bad_response",
  "backend_error",
  "no_worker",
  "queue_unavailable",
] as const;
export type FailClosedCause = (typeof FAIL_CLOSED_CAUSES)[number];

const WHY: Record<FailClosedCause, string> = {
  deadline: "The advisory did not finish within its deadline",
  queue_closed: "The service was shutting down before the advisory could run",
  shutdown: "The service shut down while the advisory was running",
  llm_error: "The policy interpreter failed",
  timeout: "The policy interpreter did not answer in time",
  aborted: "The advisory was aborted",
  parse_failure: "The policy interpreter's answer could not be read",
  circuit_open: "The policy interpreter is failing and was not asked",
  http_status: "The model server answered with an error",
  network: "The model server could not be reached",
  bad_response: "The model server's answer was malformed",
  backend_error: "The policy interpreter failed",
  no_worker: "No policy-interpreter worker is connected to the shared queue",
  queue_unavailable: "The shared queue to the policy-interpreter workers could not be reached",
};

export const isFailClosedCause = (s: string): s is FailClosedCause =>
  (FAIL_CLOSED_CAUSES as readonly string[]).includes(s);

/** The decision without id, versions and latency, which the caller adds. */
export type DecisionCore = Omit<Decision, "decisionId" | "versions" | "latencyMs">;

/**
 * The fail-closed core: the rules' classification, risk, signals and tier (so that the log and the mode
 * resolution stay accurate), the decision require_attestation or the rules' deny, and the cause, both in
 * `fallbackCause` and in the reasoning a human reads.
 *
 * `fallbackCause` is the cause alone (`"deadline"`) or, where a detail names the failure, `"cause: detail"`
 * (`"timeout: no advice within 200 ms"`), as the decision log has always recorded it.
 */
export function failClosed(
  verdict: EngineVerdict,
  cause: FailClosedCause,
  detail?: string,
  opts: { detailInCause?: boolean } = {},
): DecisionCore {
  const decision: DecisionValue = verdict.decision === "deny" ? "deny" : "require_attestation";
  const why = `${WHY[cause]}${detail ? ` (${detail})` : ""}, so the request fails closed to ${decision}.`;
  return {
    decision,
    classification: verdict.classification,
    riskLevel: verdict.riskLevel,
    reasoning: { ...verdict.reasoning, context: `${verdict.reasoning.context} ${why}`.trim() },
    policyReferences: verdict.policyReferences,
    signals: verdict.signals,
    source: "fallback",
    tier: verdict.tier,
    fallbackCause: (opts.detailInCause && detail ? `${cause}: ${detail}` : cause).slice(0, 500),
  };
}
