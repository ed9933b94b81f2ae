import { createEngine } from "../../src/engine/index.js";
import type { EngineVerdict } from "../../src/engine/types.js";
import { loadPolicy } from "../../src/policy/load.js";
import { parseRequest } from "../../src/schemas/request.js";
import type { Situation } from "../../src/schemas/situation.js";

export const policy = loadPolicy();
const engine = createEngine(policy);

/** A plain situation: a developer with good trust committing to a repository, nothing unusual. */
export function situation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action_type: "commit",
    actor_role: "developer",
    actor_id: "user:test",
    t3_tensor: { competence: 0.85, reliability: 0.85, integrity: 0.9 },
    resource: "repo:service",
    team_context: "Product team",
    ...overrides,
  };
}

export function verdict(input: Record<string, unknown>): EngineVerdict {
  return engine.evaluate(parseRequest(input).situation);
}

export const signalIds = (v: EngineVerdict) => v.signals.map((s) => s.id);
export const reasoningText = (v: EngineVerdict) => Object.values(v.reasoning).join(" ");

/**
 * The engine on a request whose `fields` are set after it is parsed, past the request's 16 KiB field cap:
 * for timing tests that the engine itself stays linear however long a text is.
 */
export function verdictUncapped(
  input: Record<string, unknown>,
  fields: Record<string, unknown>,
): EngineVerdict {
  return engine.evaluate({ ...parseRequest(input).situation, ...fields } as Situation);
}
