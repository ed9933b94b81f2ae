import type { ActionClass, PolicyDocument, ResourceRisk, RoleDef } from "../../policy/schema.js";
import type { Signal } from "../../schemas/decision.js";
import type { Situation } from "../../schemas/situation.js";
import type { Clause } from "../lexicon.js";
import type { TextField } from "../text.js";

/** What a detector sees: the request, the policy, and what the engine has established so far. */
export interface SignalContext {
  s: Situation;
  doc: PolicyDocument;
  /** Normalised action type (snake_case, lower). */
  action: string;
  actionClass: ActionClass;
  role: RoleDef | undefined;
  roleName: string;
  resource: string;
  resources: readonly ResourceRisk[];
  production: boolean;
  critical: boolean;
  trust: number;
  texts: TextField[];
  /** Narrative texts joined, lower-cased (team context, history, details, ...). */
  allLower: string;
  /** Every free-text field (narrative or not) folded and split into clauses of word tokens. */
  clauses: Clause[];
  instant: Date | undefined;
}

/** How a finding bears on the decision. */
export type Effect =
  /** Worth a human's verification: require_attestation unless something denies. */
  | "escalate"
  /** Lowers the assessed risk (established automation). Never applies to critical or production targets. */
  | "mitigate"
  /** Recorded and explained, no effect on its own. */
  | "note";

export interface Finding extends Signal {
  effect: Effect;
  /** Policy reference: "rule id: the rule in words". */
  rule: string;
  /** Which reasoning step explains it. */
  step: "trust" | "environment" | "context";
  /** A phrase for the reasoning sentence. */
  phrase: string;
  /** Marks the finding as suspicious behaviour (used for critical-infrastructure changes). */
  suspicious?: boolean;
  /** The trust scores themselves are unreliable (closed-group inflation). */
  unreliableTrust?: boolean;
  /** The action's real effect is a deploy of this kind. */
  escalatesTo?: ActionClass;
  /** An emergency; `oversight` says whether a human approver is available. */
  emergency?: { oversight: boolean };
  /** A threshold stated in the request that raises the policy's. */
  statedThreshold?: number;
}

export type Detector = (ctx: SignalContext) => Finding[];
