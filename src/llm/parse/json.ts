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

/** Most objects taken from one text. */
const MAX_OBJECTS = 16;
/**
 * Bounds on JSON.parse calls for one text, so that the work stays a fixed multiple of the text's length
 * however its braces nest: at most this many calls (a failed parse throws, which costs microseconds)...
 */
const MAX_PARSE_ATTEMPTS = 256;
/** ...and at most this many characters parsed per character of text (nested spans overlap). */
const PARSE_CHARS_PER_CHAR = 8;
/** Deepest object taken: a real answer is three levels deep; a deeper one would overflow JSON.stringify. */
const MAX_OBJECT_DEPTH = 64;
/** Most code fences read from one text. */
const MAX_FENCES = 16;

/** A balanced {...}: where it opens and closes (inclusive), and the balanced spans directly inside it. */
interface Span {
  start: number;
  end: number;
  children: Span[];
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;

/**
 * The balanced span that opens at `start`, read string-aware from there, with every span nested in it:
 * one pass over the span. Undefined when it never closes.
 */
function scanSpan(text: string, start: number): Span | undefined {
  const open: Span[] = [];
  let inString = false;
  for (let j = start; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === BACKSLASH) j++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) {
      const span: Span = { start: j, end: -1, children: [] };
      open.at(-1)?.children.push(span);
      open.push(span);
    } else if (c === CLOSE) {
      const span = open.pop() as Span;
      span.end = j;
      if (open.length === 0) return span;
    }
  }
  return undefined;
}

/**
 * Every balanced {...} in the text (string-aware) that is a JSON object, outermost first, in order of
 * appearance: a span that does not parse is searched for objects inside it. Linear: the spans come from one
 * scan, and the parse bounds above hold (the old rescan from each "{" inside a span that did not parse was
 * quadratic on nested braces). The one difference from that rescan: a "{" that sat inside a string of an
 * enclosing span is not tried on its own, since telling its strings apart would need a scan of its own.
 */
export function findJsonObjects(text: string): Json[] {
  const found: Json[] = [];
  let attempts = 0;
  let budget = PARSE_CHARS_PER_CHAR * text.length;
  const more = () => found.length < MAX_OBJECTS && attempts < MAX_PARSE_ATTEMPTS && budget > 0;
  let from = 0;
  while (more()) {
    const start = text.indexOf("{", from);
    if (start < 0) break;
    const root = scanSpan(text, start);
    if (!root) break; // unbalanced to the end: nothing further can close
    const todo: Span[] = [root]; // a stack: children pushed last-first come off in order of appearance
    while (todo.length && more()) {
      const span = todo.pop() as Span;
      let value: unknown;
      if (mayBeObject(text, span.start)) {
        attempts++;
        budget -= span.end + 1 - span.start;
        value = looseParse(text.slice(span.start, span.end + 1));
      }
      if (isObject(value) && withinDepth(value, MAX_OBJECT_DEPTH)) found.push(value);
      else for (let k = span.children.length - 1; k >= 0; k--) todo.push(span.children[k] as Span);
    }
    from = root.end + 1;
  }
  return found;
}

/**
 * Whether the span at `start` can parse as an object (after looseParse's repairs): JSON puts a key's quote,
 * the closing brace or (for a trailing comma) a comma first. Prose in braces ("{is}") costs no parse.
 */
function mayBeObject(text: string, start: number): boolean {
  let i = start + 1;
  while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  return i < text.length && '"“”},'.includes(text[i] as string);
}

/** Whether a parsed value nests at most `max` levels (iterative: the value may be deeper than the stack). */
function withinDepth(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

const isFenceInfo = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); // [A-Za-z]
const isBlank = (ch: string | undefined) => ch !== undefined && ch.trim() === ""; // \s, as String#trim

/**
 * Code-fenced blocks first (```json ... ```), then the whole text. Found by search: the regex form (a lazy
 * body up to the next fence) rescanned the rest of the text from every unclosed fence.
 */
function candidateTexts(text: string): string[] {
  const fenced: string[] = [];
  let open = text.indexOf("```");
  while (open >= 0 && fenced.length < MAX_FENCES) {
    let body = open + 3;
    while (body < text.length && isFenceInfo(text.charCodeAt(body))) body++;
    while (isBlank(text[body])) body++;
    const close = text.indexOf("```", body);
    if (close < 0) break;
    fenced.push(text.slice(body, close));
    open = text.indexOf("```", close + 3);
  }
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
