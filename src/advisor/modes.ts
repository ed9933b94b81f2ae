import { type DecisionValue, MODE_RANK, type Mode } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";

/**
 * The one admin cap: administration is never enforced by the advisor alone. Its mode is at most advisory,
 * and without a control (the caller's own, human-governed decision) an advice of allow is applied as
 * require_attestation: an admin action always keeps a human.
 */
export function capMode(tier: Tier, mode: Mode): Mode {
  return tier === "admin" && MODE_RANK[mode] > MODE_RANK.advisory ? "advisory" : mode;
}

/**
 * The decision the caller applies. Shadow: its own engine's (the control); without a control there is
 * nothing else to apply, so the advice. Advisory: the control when sent (the advice is shown beside it),
 * else the advice. Enforce: the advice. Administration: never a machine allow (see capMode).
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

/** Which mode a tier is in. The rollout module provides the live one; --mode gives a fixed one. */
export interface ModeResolver {
  modeFor(tier: Tier): Mode;
  /** Shadow mode: whether this request's advice is computed and logged (a sample rate); default yes. */
  sampleShadow?(): boolean;
}

/** Every tier in one mode (admin capped). */
export function fixedModes(mode: Mode): ModeResolver {
  return { modeFor: (tier) => capMode(tier, mode) };
}
