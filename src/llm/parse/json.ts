import type { Advice, CompactAdvice, Reasoning } from "../../schemas/decision.js";
import { ADVICE_LIMITS, COMPACT_ADVICE_LIMITS } from "./advice-schema.js";
import {
  cleanText,
  normaliseClassification,
  parseDecisionValue,
  parseRiskValue,
  stripThinking,
} from "./normalise.js";
import { failure, type ParseResult } from "./result.js";
import { MAX_PARSE_CHARS } from "./text.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses JSON, forgiving the two slips models make most: trailing commas and smart quotes around keys. */
function looseParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const repaired = text.replace(/,\s*([}\]])/g, "$1").replace(/[“”]/g, '"');
    try {
      return JSON.parse(repaired);
    } catch {
      return undefined;
    }
  }
}

/** Every balanced {...} in the text (string-aware), outermost first, in order of appearance. */
export function findJsonObjects(text: string): Json[] {
  const found: Json[] = [];
  let i = 0;
  while (i < text.length && found.length < 16) {
    const start = text.indexOf("{", i);
    if (start < 0) break;
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let j = start; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === "\\") j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        end = j;
        break;
      }
    }
    if (end < 0) break; // unbalanced to the end: nothing further can close
    const value = looseParse(text.slice(start, end + 1));
    if (isObject(value)) {
      found.push(value);
      i = end + 1;
    } else {
      i = start + 1; // not JSON: look for an object inside it
    }
  }
  return found;
}

/** Code-fenced blocks first (```json ... ```), then the whole text. */
function candidateTexts(text: string): string[] {
  const fenced = [...text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  return [...fenced, text];
}

const pick = (o: Json, ...keys: string[]): unknown => {
  for (const k of keys) if (k in o) return o[k];
  const lower = new Map(Object.keys(o).map((k) => [k.toLowerCase().replace(/[\s_-]/g, ""), k]));
  for (const k of keys) {
    const real = lower.get(k.toLowerCase().replace(/[\s_-]/g, ""));
    if (real !== undefined) return o[real];
  }
  return undefined;
};

/** The object holding the answer: the top level, or one level down ({"advice": {...}}, {"result": {...}}). */
function answerObject(o: Json): Json | undefined {
  if (pick(o, "decision") !== undefined) return o;
  for (const v of Object.values(o)) if (isObject(v) && pick(v, "decision") !== undefined) return v;
  return undefined;
}

const asText = (v: unknown): string =>
  typeof v === "string" ? cleanText(v) : v === undefined || v === null ? "" : cleanText(JSON.stringify(v));

function reasoningOf(v: unknown, warnings: string[]): Reasoning | undefined {
  const r: Reasoning = { roleCheck: "", trustCheck: "", environment: "", context: "" };
  if (isObject(v)) {
    r.roleCheck = asText(pick(v, "roleCheck", "role_check", "role"));
    r.trustCheck = asText(pick(v, "trustCheck", "trust_check", "trust"));
    r.environment = asText(
      pick(v, "environment", "environmentRisk", "environment_risk", "environment_check"),
    );
    r.context = asText(pick(v, "context", "contextCheck", "context_check"));
  } else if (Array.isArray(v) && v.length >= 4) {
    [r.roleCheck, r.trustCheck, r.environment, r.context] = v.slice(0, 4).map(asText) as [
      string,
      string,
      string,
      string,
    ];
  } else if (typeof v === "string" && v.trim()) {
    r.context = cleanText(v);
    warnings.push("reasoning given as one text: kept as context");
  }
  const keys = Object.keys(r) as Array<keyof Reasoning>;
  if (keys.every((k) => !r[k])) return undefined;
  for (const k of keys) {
    if (!r[k]) {
      r[k] = "(not stated)";
      warnings.push(`reasoning.${k} missing`);
    }
    r[k] = r[k].slice(0, ADVICE_LIMITS.reasoningField * 3);
  }
  return r;
}

function adviceFrom(o: Json): ParseResult {
  const warnings: string[] = [];
  const rawDecision = pick(o, "decision");
  if (typeof rawDecision !== "string")
    return failure("invalid_value", "decision is not a string", "decision");
  const d = parseDecisionValue(rawDecision);
  if (!d.ok) {
    return d.reason === "ambiguous"
      ? failure("ambiguous_decision", `decision "${rawDecision.slice(0, 60)}" is ambiguous`, "decision")
      : failure(
          "invalid_value",
          `decision "${rawDecision.slice(0, 60)}" is not allow, deny or require_attestation`,
          "decision",
        );
  }
  const rawRisk = pick(o, "riskLevel", "risk_level", "risk");
  const riskLevel = typeof rawRisk === "string" ? parseRiskValue(rawRisk) : undefined;
  if (!riskLevel) {
    return rawRisk === undefined
      ? failure("missing_field", "no riskLevel", "riskLevel")
      : failure("invalid_value", "riskLevel is not low, medium, high or critical", "riskLevel");
  }
  const rawClass = pick(o, "classification", "category");
  const classification = typeof rawClass === "string" ? normaliseClassification(rawClass) : "";
  if (!classification) return failure("missing_field", "no classification", "classification");
  const rawRefs = pick(o, "policyReferences", "policy_references", "references");
  const policyReferences = (
    Array.isArray(rawRefs) ? rawRefs : typeof rawRefs === "string" ? rawRefs.split(/;\s*/) : []
  )
    .map(asText)
    .filter((s) => s.length > 0)
    .slice(0, ADVICE_LIMITS.policyReferences * 2)
    .map((s) => s.slice(0, ADVICE_LIMITS.policyReference * 2));
  const rawReasoning = pick(o, "reasoning", "rationale");
  if (rawReasoning === undefined) {
    // The compact shape: no reasoning object, the model's context judgement at the top level.
    const context = asText(pick(o, "context", "contextCheck", "context_check"));
    if (!context) return failure("missing_field", "no reasoning and no context", "reasoning");
    const advice: CompactAdvice = {
      classification,
      riskLevel,
      decision: d.value,
      context: context.slice(0, COMPACT_ADVICE_LIMITS.context * 3),
      policyReferences,
    };
    return { ok: true, advice, format: "json", warnings };
  }
  const reasoning = reasoningOf(rawReasoning, warnings);
  if (!reasoning) return failure("missing_field", "no reasoning", "reasoning");
  const advice: Advice = { decision: d.value, classification, riskLevel, reasoning, policyReferences };
  return { ok: true, advice, format: "json", warnings };
}

/**
 * Finds the answer object in a model's text: bare JSON, JSON in a code fence, or JSON inside prose.
 * Several answers that disagree on the decision are a failure, never a pick.
 */
export function parseJsonAdvice(input: string): ParseResult {
  const text = stripThinking(input.slice(0, MAX_PARSE_CHARS));
  if (!text.trim()) return failure("empty", "the model returned no text");
  const seen = new Set<string>();
  const results: ParseResult[] = [];
  for (const candidate of candidateTexts(text)) {
    for (const obj of findJsonObjects(candidate)) {
      const answer = answerObject(obj);
      if (!answer) continue;
      const key = JSON.stringify(answer);
      if (seen.has(key)) continue;
      seen.add(key);
      results.push(adviceFrom(answer));
    }
  }
  if (results.length === 0) return failure("no_answer", "no JSON object with a decision in the text");
  const good = results.filter((r): r is Extract<ParseResult, { ok: true }> => r.ok);
  if (good.length === 0) return results[0] as ParseResult;
  const decisions = new Set(good.map((r) => r.advice.decision));
  if (decisions.size > 1) {
    return failure(
      "conflicting_answers",
      `the text holds answers with different decisions: ${[...decisions].join(", ")}`,
      "decision",
    );
  }
  return good[0] as ParseResult;
}
