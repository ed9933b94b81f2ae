import type { ActionClass } from "../policy/schema.js";
import type { DecisionValue, RiskLevel } from "../schemas/common.js";
import type { Reasoning, Signal, Tier } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";

/** What the rules engine concludes about one request, before ids, versions and timing are added. */
export interface EngineVerdict {
  decision: DecisionValue;
  classification: string;
  riskLevel: RiskLevel;
  reasoning: Reasoning;
  policyReferences: string[];
  signals: Signal[];
  tier: Tier;
  /** Facts behind the verdict, for hybrid routing, the LLM prompt and the cache. */
  facts: EngineFacts;
}

export interface EngineFacts {
  role: string | null;
  roleKnown: boolean;
  rolePermits: boolean;
  actionClass: ActionClass;
  /** Class after escalation (e.g. a config change that auto-deploys counts as a deploy). */
  effectiveClass: ActionClass;
  resourceIds: string[];
  production: boolean;
  critical: boolean;
  trust: number;
  threshold: number;
  trustBand: "far_below" | "borderline" | "narrow" | "meets";
  /**
   * A rule that no advice may change: role refusal, trust far below, a suspicious change to critical
   * infrastructure, unreliable trust used for privileges. Hybrid never sends these to the LLM.
   */
  hardDeny: boolean;
  /** The case needs nuance (signals fired, borderline trust): hybrid asks the LLM. */
  needsNuance: boolean;
  /** Every input the verdict depends on was clear: safe to cache. */
  confident: boolean;
  /** The rules could not account for part of the request (see `unexplained`); hybrid asks the interpreter. */
  uncertain: boolean;
  /** What the rules could not account for: field names, unplaced risk words, an unknown or compound action. */
  unexplained: string[];
  /**
   * The rules' attestation rests only on uncertainty (or borderline trust at low or medium risk): the
   * interpreter may judge it routine. Never true over an escalating or suspicious signal.
   */
  relaxable: boolean;
}

export interface PolicyEngine {
  readonly revision: string;
  evaluate(situation: Situation): EngineVerdict;
}

/** What the rules concluded, before the reasoning is written: the decision and why. */
export interface Outcome {
  decision: DecisionValue;
  classification: string;
  /** Why, in words: ends the context sentence. */
  conclusion: string;
  hardDeny: boolean;
}
