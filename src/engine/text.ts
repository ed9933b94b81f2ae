import type { PolicyDocument } from "../policy/schema.js";
import type { Situation } from "../schemas/situation.js";
import { readableText } from "../util/unicode.js";

/** A piece of free text from the request, with where it came from. Free text is data, never authority. */
export interface TextField {
  /** Field path, e.g. "team_context" or "approval_pending". */
  path: string;
  text: string;
  /** Lower-cased, whitespace-folded copy used by the detectors. */
  lower: string;
  /** True for fields the contracts define as narrative (context, history, details, description). */
  narrative: boolean;
  /** `lower` split into sentences, computed once. */
  sentences: string[];
}

/** Fields that are not free text: the engine reads them structurally. */
const STRUCTURED = new Set([
  "action_type",
  "actor_role",
  "actor_id",
  "t3_tensor",
  "resource",
  "timestamp",
  "identity_metrics",
  "request_id",
  "session_id",
  "caller_risk_assessment",
  "coherence_state",
]);

const NARRATIVE = new Set([
  "team_context",
  "recent_history",
  "details",
  "intent",
  "previous_actions",
  "parameters",
]);

const fold = (s: string) => s.toLowerCase().replace(/\s+/g, " ").trim();

function collect(value: unknown, path: string, narrative: boolean, out: TextField[], depth: number): void {
  if (depth > 6 || value === null || value === undefined) return;
  if (typeof value === "string") {
    if (value.trim()) {
      const lower = fold(readableText(value));
      out.push({ path, text: value, lower, narrative, sentences: sentences(lower) });
    }
  } else if (typeof value === "number" || typeof value === "boolean") {
    out.push({ path, text: String(value), lower: String(value), narrative, sentences: [String(value)] });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) collect(value[i], `${path}[${i}]`, narrative, out, depth + 1);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collect(v, `${path}.${k}`, narrative, out, depth + 1);
  }
}

/**
 * Every textual value of the situation except the structured fields, including unknown extra fields. The
 * policy's declared incident field counts as structured when it is a plain value, and its approval field
 * when it is an object; in any other form they are text like any other.
 */
export function gatherTexts(s: Situation, doc?: PolicyDocument): TextField[] {
  const out: TextField[] = [];
  for (const [key, value] of Object.entries(s)) {
    if (STRUCTURED.has(key)) continue;
    if (doc && key === doc.emergency.incidentField && typeof value === "string" && value.length <= 40)
      continue;
    if (
      doc &&
      key === doc.approvals.field &&
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value)
    )
      continue;
    collect(value, key, NARRATIVE.has(key) || key === "r6_extra", out, 0);
  }
  return out;
}

/** Whether a top-level field is one the contracts or the policy define (its name carries no meaning otherwise). */
export function isKnownField(key: string, doc: PolicyDocument): boolean {
  return (
    STRUCTURED.has(key) ||
    NARRATIVE.has(key) ||
    key === doc.emergency.incidentField ||
    key === doc.approvals.field
  );
}

/** Splits text into sentences/clauses so that a phrase and its qualifier are read together. */
export function sentences(lower: string): string[] {
  return lower
    .split(/(?<=[.;!?])\s+|\n+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export const NUMBER_WORDS: Record<string, number> = {
  no: 0,
  zero: 0,
  none: 0,
  one: 1,
  a: 1,
  an: 1,
  single: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  several: 3,
  multiple: 3,
  many: 5,
  numerous: 5,
};

/** "3", "three", "10,000", "2.5k" -> number; undefined when it is not a count. */
export function parseCount(token: string): number | undefined {
  const t = token.toLowerCase().replace(/,/g, "");
  if (t in NUMBER_WORDS) return NUMBER_WORDS[t];
  const m = /^(\d+(?:\.\d+)?)(k|m)?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "k" ? n * 1_000 : m[2] === "m" ? n * 1_000_000 : n;
}

/** Parses "0.7", "70%", "$9,900", "12k" into a number (percent as given, not divided). */
export function parseNumber(token: string): number | undefined {
  const t = token.replace(/[$€£,\s]/g, "").toLowerCase();
  const m = /^(-?\d+(?:\.\d+)?)(%|k|m)?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] === "k") return n * 1_000;
  if (m[2] === "m") return n * 1_000_000;
  return n;
}

/** A structured field whose name matches, anywhere at the top level (incident_status, approval_pending...). */
export function fieldsNamed(s: Situation, name: RegExp): Array<[string, unknown]> {
  return Object.entries(s).filter(([k]) => name.test(k));
}
