import type { LoadedPolicy } from "../policy/load.js";
import type { Situation } from "../schemas/situation.js";
import { compilePolicy } from "./compiled.js";
import { evaluate } from "./evaluate.js";
import type { EngineVerdict, PolicyEngine } from "./types.js";

/** The rules engine for one policy: pure, synchronous, microseconds per decision. */
export function createEngine(policy: LoadedPolicy): PolicyEngine {
  const compiled = compilePolicy(policy);
  return {
    revision: policy.revision,
    evaluate: (situation: Situation): EngineVerdict => evaluate(compiled, situation),
  };
}

export { normaliseAction } from "./evaluate.js";
export type { EngineFacts, EngineVerdict, PolicyEngine } from "./types.js";
