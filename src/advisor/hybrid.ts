import { performance } from "node:perf_hooks";
import type { EngineVerdict } from "../engine/types.js";
import { CircuitOpenError } from "../llm/circuit.js";
import { LlmOutputError } from "../llm/llama/errors.js";
import { LlmHttpError } from "../llm/openai/errors.js";
import { AdviceParseError } from "../llm/parse/result.js";
import type { LlmBackend } from "../llm/types.js";
import type { DecisionValue } from "../schemas/common.js";
import { maxRisk } from "../schemas/common.js";
import {
  type Decision,
  isCompactAdvice,
  type ModelAdvice,
  type Reasoning,
  type Versions,
} from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import { wordEnd } from "../util/text.js";
import { newDecisionId } from "./decision-id.js";
import { type DecisionCore, type FailClosedCause, failClosed, isFailClosedCause } from "./fail-closed.js";
import { DeadlineExceededError, withDeadline } from "./patterns/deadline.js";

/**
 * Combining the rules engine with the LLM policy interpreter.
 *
 * - Engine "hybrid": the rules decide clear cases; a request whose verdict needs nuance (signals, borderline
 *   trust) and is not a hard deny goes to the LLM.
 * - Engine "llm": every request goes to the LLM, except hard denies, which no advice could change.
 *
 * Guard rails, in both: the LLM never turns a rules deny into anything else, never turns an attestation into
 * allow on a high or critical risk or a critical target, and never lowers the risk level below the rules'.
 * Any failure (parse, timeout, abort, backend error) fails closed: require_attestation, or the rules' deny
 * when that is stricter, with source "fallback" and the cause; never allow.
 */

export type { DecisionCore } from "./fail-closed.js";

export interface LlmPathRequest {
  engine: "llm" | "hybrid";
  llm: LlmBackend;
  situation: Situation;
  verdict: EngineVerdict;
  signal?: AbortSignal;
  /** Milliseconds the LLM may take before the fail-closed fallback answers. */
  deadlineMs?: number;
}

export interface LlmPathResult {
  core: DecisionCore;
  /** Whether the LLM was asked (false: the rules decided alone). */
  askedLlm: boolean;
  /** The model's raw text when it answered (for the decision log). */
  raw?: string;
}

const STRICTNESS: Record<DecisionValue, number> = { allow: 0, require_attestation: 1, deny: 2 };

/**
 * Whether the request goes to the LLM under this engine. Hybrid asks wherever the rules are unsure (an
 * attestation, or a request they cannot fully account for) and only there: hard denies and clean allows
 * never wait for a model slot or its deadline.
 */
export function routesToLlm(engine: "llm" | "hybrid", verdict: EngineVerdict): boolean {
  if (verdict.facts.hardDeny) return false;
  return engine === "llm" || verdict.facts.needsNuance;
}

export function engineCore(verdict: EngineVerdict): DecisionCore {
  return {
    decision: verdict.decision,
    classification: verdict.classification,
    riskLevel: verdict.riskLevel,
    reasoning: verdict.reasoning,
    policyReferences: verdict.policyReferences,
    signals: verdict.signals,
    source: "engine",
    tier: verdict.tier,
  };
}

/**
 * The reasoning of a decision the model's advice decides. A full answer brings all four checks. A compact
 * answer brings only the context judgement: the role, trust and environment sentences are the rules
 * engine's, which computed those facts (the prompt gave them to the model as authoritative findings).
 */
export function adviceReasoning(verdict: EngineVerdict, advice: ModelAdvice): Reasoning {
  if (!isCompactAdvice(advice)) return advice.reasoning;
  return {
    roleCheck: verdict.reasoning.roleCheck,
    trustCheck: verdict.reasoning.trustCheck,
    environment: verdict.reasoning.environment,
    context: advice.context,
  };
}

/**
 * The references of a decision the model's advice decides. A full answer's references replace the rules'
 * (it restated the rules it applied). A compact answer has the rules' references, plus any a server that
 * ignored the schema added.
 */
export function adviceReferences(verdict: EngineVerdict, advice: ModelAdvice): string[] {
  // The policy's references are the rules'; what the model cites is labelled as the model's, never mixed in.
  const model = advice.policyReferences.map((r) => `${MODEL_REFERENCE_PREFIX}${r}`);
  return [...new Set([...verdict.policyReferences, ...model])];
}

/** Marks a reference the interpreter wrote: it cites the policy in its own words, unchecked. */
export const MODEL_REFERENCE_PREFIX = "interpreter (unverified): ";

/**
 * Words that make an allow conditional or contradict it: "approve after review", "allow once signed off",
 * "insufficient trust". An answer of allow whose own judgement says any of this is an attestation.
 */
const QUALIFIED =
  /\b(pending|after|once|until|unless|provided|subject to|conditional|if\b|only if|review|sign[- ]?off|signed off by|attest|verif|confirm|approval|human|escalat|insufficient|not sufficient|lacks?|below|too low|cannot|can't|should not|shouldn't|must not|not (be )?allowed|deny|denied|refuse|reject|suspicious|risky|unsafe|caution|however|but\b)/i;
/**
 * QUALIFIED's stems: the word quoted is the whole word ("reviewed"), as `review\w*` gave it. Matched
 * without the `\w*`, the regex is small enough for the ReDoS analyser to prove it linear.
 */
const QUALIFIED_STEMS = new Set([
  "conditional",
  "review",
  "attest",
  "verif",
  "confirm",
  "escalat",
  "refuse",
  "reject",
]);

/** The model's allow, read against its own words: a qualified or contradicted allow is an attestation. */
export function qualifiedAllow(advice: ModelAdvice): string | undefined {
  if (advice.decision !== "allow") return undefined;
  const raw = isCompactAdvice(advice)
    ? `${advice.classification} ${advice.context}`
    : `${advice.classification} ${Object.values(advice.reasoning).join(" ")}`;
  const text = raw.replace(/_/g, " ");
  const m = QUALIFIED.exec(text);
  if (!m) return undefined;
  const end = m.index + m[0].length;
  return QUALIFIED_STEMS.has(m[0].toLowerCase()) ? text.slice(m.index, wordEnd(text, end)) : m[0];
}

/**
 * Applies the guard rails to the LLM's advice (either answer shape). Returns the decision that stands and,
 * when the two answers differ, the disagreement with both of them.
 */
export function combine(verdict: EngineVerdict, raw: ModelAdvice): DecisionCore {
  const qualifier = qualifiedAllow(raw);
  const advice: ModelAdvice = qualifier ? { ...raw, decision: "require_attestation" } : raw;
  const riskLevel = maxRisk(verdict.riskLevel, advice.riskLevel);
  const rules = verdict.decision;
  const llm = advice.decision;
  let overrideWhy: string | undefined;
  if (rules === "deny" && llm !== "deny") {
    overrideWhy = "the rules deny; advice can never loosen a deny";
  } else if (rules === "require_attestation" && llm === "allow" && !verdict.facts.relaxable) {
    overrideWhy = verdict.facts.critical
      ? "the target is critical infrastructure; an attestation there is never relaxed to allow"
      : verdict.signals.some((s) => s.severity !== "info")
        ? `the rules' attestation rests on signals (${verdict.signals
            .filter((s) => s.severity !== "info")
            .map((s) => s.id)
            .join(", ")}) that advice can never relax`
        : `the rules' attestation (${verdict.classification}) at ${riskLevel} risk is never relaxed to allow by advice`;
  } else if (rules === "require_attestation" && llm === "allow" && riskLevel === "critical") {
    overrideWhy = "the interpreter rated the risk critical; an attestation there is never relaxed to allow";
  }

  if (overrideWhy !== undefined) {
    return {
      ...engineCore(verdict),
      riskLevel,
      disagreement: { engine: rules, llm: raw.decision, kept: "engine", why: overrideWhy },
    };
  }
  const reasoning = adviceReasoning(verdict, advice);
  const core: DecisionCore = {
    decision: llm,
    classification: advice.classification,
    riskLevel,
    reasoning: qualifier
      ? {
          ...reasoning,
          context: `${reasoning.context} The interpreter's allow was qualified ("${qualifier}"), so it stands as require_attestation.`,
        }
      : reasoning,
    policyReferences: adviceReferences(verdict, advice),
    // Signals are facts the rules established; the model does not produce them.
    signals: verdict.signals,
    source: "llm",
    tier: verdict.tier,
  };
  if (llm !== rules || qualifier) {
    core.disagreement = {
      engine: rules,
      llm: raw.decision,
      kept: "llm",
      why: qualifier
        ? `the interpreter's allow was qualified ("${qualifier}"); a conditional allow is an attestation`
        : STRICTNESS[llm] > STRICTNESS[rules]
          ? "the interpreter is stricter than the rules; the stricter answer stands"
          : "the rules were unsure of a request the interpreter judged routine",
    };
  }
  return core;
}

/** The fail-closed cause and detail of a failed LLM call, recognised by type and code, never by name. */
export function failureOf(err: unknown, deadlineMs?: number): { cause: FailClosedCause; detail: string } {
  if (err instanceof DeadlineExceededError)
    return { cause: "timeout", detail: `no advice within ${deadlineMs ?? err.deadlineMs} ms` };
  if (err instanceof AdviceParseError)
    return { cause: "parse_failure", detail: `${err.failure.code}: ${err.failure.message}` };
  if (err instanceof LlmOutputError)
    return { cause: "parse_failure", detail: err.message || "unusable model output" };
  if (err instanceof CircuitOpenError)
    return { cause: "circuit_open", detail: err.message || "the model is failing; not asked" };
  if (err instanceof LlmHttpError) return { cause: err.code, detail: err.message };
  const e = err as { name?: string; code?: unknown; message?: string } | undefined;
  if (e?.name === "AbortError") return { cause: "aborted", detail: e.message ?? "the request was aborted" };
  if (typeof e?.code === "string" && isFailClosedCause(e.code))
    return { cause: e.code, detail: e.message ?? "" };
  return { cause: "backend_error", detail: e?.message ?? String(err) };
}

/** A short, log-friendly cause for a failed LLM call ("timeout: no advice within 200 ms"). */
export function fallbackCauseOf(err: unknown, deadlineMs?: number): string {
  const { cause, detail } = failureOf(err, deadlineMs);
  return `${cause}: ${detail}`.slice(0, 500);
}

/** The fail-closed answer of the LLM path, with the failure as its cause (see fail-closed.ts). */
export function fallbackCore(verdict: EngineVerdict, err: unknown, deadlineMs?: number): DecisionCore {
  const { cause, detail } = failureOf(err, deadlineMs);
  return failClosed(verdict, cause, detail, { detailInCause: true });
}

/** Runs the LLM with the caller's signal and deadline (the one deadline helper); rejects on whichever comes first. */
function adviseWithin(req: LlmPathRequest): ReturnType<LlmBackend["advise"]> {
  return withDeadline(
    req.deadlineMs,
    (signal) => req.llm.advise({ situation: req.situation, verdict: req.verdict, signal }),
    req.signal,
  );
}

/** Decides one request on the llm or hybrid path. Never throws: failures become the fallback. */
export async function decideWithLlm(req: LlmPathRequest): Promise<LlmPathResult> {
  if (!routesToLlm(req.engine, req.verdict)) return { core: engineCore(req.verdict), askedLlm: false };
  try {
    const result = await adviseWithin(req);
    return { core: combine(req.verdict, result.advice), askedLlm: true, raw: result.raw };
  } catch (err) {
    return { core: fallbackCore(req.verdict, err, req.deadlineMs), askedLlm: true };
  }
}

/** The decision JSON, in the contract's field order, from a core plus id, versions and its latency. */
export function assembleDecision(
  core: DecisionCore,
  versions: Versions,
  latencyMs: number,
  decisionId: string = newDecisionId(),
): Decision {
  const { decision, classification, riskLevel, reasoning, policyReferences, signals, source, ...rest } = core;
  return {
    decisionId,
    decision,
    classification,
    riskLevel,
    reasoning,
    policyReferences,
    signals,
    source,
    versions,
    latencyMs: Number(latencyMs.toFixed(3)),
    ...rest,
  };
}

/** As assembleDecision, timed from `startedAt` (performance.now()). */
export function decisionFromCore(
  core: DecisionCore,
  versions: Versions,
  startedAt: number,
  decisionId: string = newDecisionId(),
): Decision {
  return assembleDecision(core, versions, performance.now() - startedAt, decisionId);
}
