import type { EngineVerdict } from "../../engine/types.js";
import type { Decision, Versions } from "../../schemas/decision.js";
import { type FailClosedCause, failClosed } from "../fail-closed.js";

/** Milliseconds to the microsecond, as every decision reports them. */
export const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export type FallbackCause = Extract<FailClosedCause, "deadline" | "queue_closed" | "llm_error" | "shutdown">;

/** The fail-closed decision of the service's patterns (deadline, queue, shutdown), with id and versions. */
export function fallbackDecision(
  verdict: EngineVerdict,
  opts: { decisionId: string; versions: Versions; cause: FallbackCause; detail?: string; latencyMs: number },
): Decision {
  const { decision, classification, riskLevel, reasoning, policyReferences, signals, source, ...rest } =
    failClosed(verdict, opts.cause, opts.detail);
  return {
    decisionId: opts.decisionId,
    decision,
    classification,
    riskLevel,
    reasoning,
    policyReferences,
    signals,
    source,
    versions: opts.versions,
    latencyMs: round3(opts.latencyMs),
    ...rest,
  };
}
