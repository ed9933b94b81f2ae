import { detectAutomation } from "./automation.js";
import { detectDeployImpact } from "./deploy-impact.js";
import { detectIdentity } from "./identity.js";
import { detectIncident } from "./incident.js";
import { detectInjection } from "./injection.js";
import { detectMeasurements } from "./measurements.js";
import {
  detectDataExfiltration,
  detectEmergencyClaim,
  detectFailureHistory,
  detectNewAccount,
  detectPipelineTampering,
  detectPropagation,
  detectRapidTrustRise,
  detectSelfBenefit,
  detectSuppression,
} from "./risk-kinds.js";
import { detectCallerRisk, detectDestructive, detectStatedThreshold } from "./scope.js";
import { detectTiming } from "./timing.js";
import { detectTrustInflation } from "./trust-inflation.js";
import type { Detector, Finding, SignalContext } from "./types.js";

/** Every context detector, in the order their findings are reported. */
export const DETECTORS: readonly Detector[] = [
  detectStatedThreshold,
  detectTrustInflation,
  detectTiming,
  detectIdentity,
  detectDeployImpact,
  detectIncident,
  detectAutomation,
  detectMeasurements,
  detectDestructive,
  detectCallerRisk,
  detectInjection,
  detectSuppression,
  detectDataExfiltration,
  detectPipelineTampering,
  detectNewAccount,
  detectSelfBenefit,
  detectPropagation,
  detectEmergencyClaim,
  detectFailureHistory,
  detectRapidTrustRise,
];

export function runDetectors(ctx: SignalContext): Finding[] {
  const out: Finding[] = [];
  for (const d of DETECTORS) out.push(...d(ctx));
  // One finding per id and severity: several detectors may see the same unreliable trust.
  // One finding per id: several detectors may see the same kind (a hidden deploy, an emergency).
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = f.id;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export type { Finding, SignalContext } from "./types.js";
