import { performance } from "node:perf_hooks";
import { createEngine } from "../engine/index.js";
import type { EngineVerdict } from "../engine/types.js";
import { loadPolicy } from "../policy/load.js";
import type { Decision, Versions } from "../schemas/decision.js";
import { type ParsedRequest, parseRequest } from "../schemas/request.js";
import { newDecisionId } from "./decision-id.js";
import { decideWithLlm, decisionFromCore, engineCore } from "./hybrid.js";
import type { AdviseOptions, Advisor, AdvisorOptions, EngineKind } from "./types.js";

/** Turns an engine verdict into the decision JSON of the contract. */
export function verdictToDecision(
  verdict: EngineVerdict,
  versions: Versions,
  startedAt: number,
  decisionId: string = newDecisionId(),
): Decision {
  return decisionFromCore(engineCore(verdict), versions, startedAt, decisionId);
}

/**
 * The in-process advisor. Engine "rules" decides with the policy alone; "llm" and "hybrid" need an LLM
 * backend (see src/advisor/hybrid.ts) and never loosen what the rules forbid.
 */
export function createAdvisor(opts: AdvisorOptions = {}): Advisor {
  const policy = opts.policy ?? loadPolicy();
  const engine = createEngine(policy);
  const kind: EngineKind = opts.engine ?? "rules";
  if (kind !== "rules" && !opts.llm) {
    throw new Error(`engine "${kind}" needs a model: pass --model FILE or --llm-url URL`);
  }
  const versions = (): Versions => ({
    policy: policy.revision,
    prompt: kind === "rules" ? null : (opts.llm?.promptVersion ?? null),
    model: kind === "rules" ? null : (opts.llm?.modelId ?? null),
    // Said wherever the versions go (decision JSON, log, console): a synthetic model's answers are noise.
    ...(kind !== "rules" && opts.llm?.synthetic ? { modelSynthetic: true as const } : {}),
  });

  const adviseParsed = async (req: ParsedRequest, o: AdviseOptions = {}): Promise<Decision> => {
    const started = performance.now();
    const verdict = o.verdict ?? engine.evaluate(req.situation);
    if (kind === "rules" || !opts.llm) return verdictToDecision(verdict, versions(), started, o.decisionId);
    // llm / hybrid: routing, guard rails and fail-closed fallback live in hybrid.ts.
    const { core } = await decideWithLlm({
      engine: kind,
      llm: opts.llm,
      situation: req.situation,
      verdict,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
    });
    return decisionFromCore(core, versions(), started, o.decisionId);
  };

  return {
    engine: kind,
    policy,
    versions,
    adviseParsed,
    verdict: (req: ParsedRequest) => engine.evaluate(req.situation),
    advise: (input: unknown, o?: AdviseOptions) => adviseParsed(parseRequest(input), o),
    close: async () => {
      await opts.llm?.close();
    },
  };
}
