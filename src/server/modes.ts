import type { DecisionValue } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import type { Mode } from "../store/types.js";

/** Which mode a tier is in. The rollout module provides the live one; --mode gives a fixed one. */
export interface ModeResolver {
  modeFor(tier: Tier): Mode;
  /** Shadow mode: whether this request's advice is computed and logged (a sample rate); default yes. */
  sampleShadow?(): boolean;
}

const RANK: Record<Mode, number> = { shadow: 0, advisory: 1, enforce: 2 };

/** Administration is never enforced by the advisor alone: at most advisory, a human stays in the loop. */
export function capMode(tier: Tier, mode: Mode): Mode {
  return tier === "admin" && RANK[mode] > RANK.advisory ? "advisory" : mode;
}

/** Every tier in one mode (admin capped). */
export function fixedModes(mode: Mode): ModeResolver {
  return { modeFor: (tier) => capMode(tier, mode) };
}

/**
 * The decision the caller applies. Shadow: its own engine's (the control); without a control there is
 * nothing else to apply, so the advice. Advisory: the control when sent (the advice is shown beside it),
 * else the advice. Enforce: the advice.
 *
 * Administration always keeps a human: without a control (the caller's own, human-governed decision) an
 * admin action's advice of allow is applied as require_attestation, never as a machine allow.
 */
export function effectiveDecision(
  mode: Mode,
  decision: DecisionValue,
  control?: DecisionValue,
  tier?: Tier,
): DecisionValue {
  if (tier === "admin" && control === undefined && decision === "allow") return "require_attestation";
  if (mode === "enforce") return decision;
  return control ?? decision;
}
