import type { EngineVerdict } from "../../engine/types.js";
import type { Decision, Versions } from "../../schemas/decision.js";
import { type FailClosedCause, failClosed } from "../fail-closed.js";
import { assembleDecision } from "../hybrid.js";

export type FallbackCause = Extract<FailClosedCause, "deadline" | "queue_closed" | "llm_error" | "shutdown">;

/** The fail-closed decision of the service's patterns (deadline, queue, shutdown), with id and versions. */
export function fallbackDecision(
  verdict: EngineVerdict,
  opts: { decisionId: string; versions: Versions; cause: FallbackCause; detail?: string; latencyMs: number },
): Decision {
  return assembleDecision(
    failClosed(verdict, opts.cause, opts.detail),
    opts.versions,
    opts.latencyMs,
    opts.decisionId,
  );
}
