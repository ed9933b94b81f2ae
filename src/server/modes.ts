import { capMode } from "../advisor/modes.js";
import type { Mode } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";

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

export { capMode, effectiveDecision } from "../advisor/modes.js";
