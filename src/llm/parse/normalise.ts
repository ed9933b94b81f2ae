import { type DecisionValue, RISK_ORDER, type RiskLevel } from "../../schemas/common.js";
import { ADVICE_LIMITS } from "./advice-schema.js";

/** Markdown emphasis and code marks around words: "**Decision:**", "`allow`", "__deny__". */
export function stripEmphasis(s: string): string {
  return s
    .replace(/\*\*|__|`/g, "")
    .replace(/(^|\s)\*(\S)/g, "$1$2")
    .replace(/(\S)\*(?=\s|$|[:.,;])/g, "$1");
}

const DECISION_WORD =
  /\b(allow(?:ed)?|approve[ds]?|den(?:y|ied)|reject(?:ed)?|requires?[\s_-]*(?:an?\s+)?attestation|attestation[\s_-]+required)\b/gi;
const NEGATIONS = ["not", "never", "dont", "don't", "cannot", "cant", "can't", "shouldnt", "shouldn't", "no"];
const isBlankChar = (c: string | undefined) => c !== undefined && c.trim() === ""; // \s
const isWordChar = (c: string | undefined) => c !== undefined && /\w/.test(c);

/** Whether a blank-free token ends in a negation that starts at a word boundary ("not", "(never"). */
function endsInNegation(token: string): boolean {
  const t = token.toLowerCase();
  return NEGATIONS.some((n) => t.endsWith(n) && !isWordChar(t[t.length - n.length - 1]));
}

/**
 * Whether `before` ends in a negation and then at most two words, each followed by blanks ("not ",
 * "do not really "): what /\b(not|never|...)\s+(?:\w+\s+){0,2}$/i matched. Reads back over those three
 * words only; the regex scanned all of `before` again for each decision word, quadratic in a long value.
 */
export function endsNegated(before: string): boolean {
  let i = before.length;
  for (let words = 0; words <= 2; words++) {
    const blanksEnd = i;
    while (isBlankChar(before[i - 1])) i--;
    if (i === blanksEnd) return false; // a word must be followed by blanks
    const tokenEnd = i;
    while (i > 0 && !isBlankChar(before[i - 1])) i--;
    const token = before.slice(i, tokenEnd);
    if (endsInNegation(token)) return true;
    if (!/^\w+$/.test(token)) return false; // only plain words may stand between
  }
  return false;
}

function decisionOf(word: string): DecisionValue {
  const w = word.toLowerCase();
  if (w.startsWith("allow") || w.startsWith("approve")) return "allow";
  if (w.startsWith("den") || w.startsWith("reject")) return "deny";
  return "require_attestation";
}

/** What makes an allow conditional: it then needs a human first, which is what an attestation is. */
const QUALIFIER =
  /\b(attest\w*|verif\w*|condition\w*|approval|pending|after|once|until|unless|provided|subject to|if|review\w*|sign[- ]?off|signed[- ]off|confirm\w*|human|manual\w*|escalat\w*|but|however|except)\b/i;

export type DecisionParse = { ok: true; value: DecisionValue } | { ok: false; reason: "none" | "ambiguous" };

/**
 * Reads a decision from a field value. A value that starts with a decision word is that decision; otherwise
 * the value must name exactly one decision, un-negated. "do not allow" or "allow | deny" are ambiguous: a
 * wrong guess could turn into an allow, so the caller fails closed instead.
 */
export function parseDecisionValue(raw: string): DecisionParse {
  const v = stripEmphasis(raw)
    .trim()
    .replace(/^["'([{\s]+/, "");
  const lead = /^(allow(?:ed)?|approved?|den(?:y|ied)|requires?[\s_-]*(?:an?\s+)?attestation)\b/i.exec(v);
  if (lead?.[1]) {
    // "allow | deny | require_attestation" (an echoed template) starts with a word yet names all three.
    const rest = v.slice(lead[0].length);
    if (/^\s*(\||\/|\bor\b)/i.test(rest)) return { ok: false, reason: "ambiguous" };
    const value = decisionOf(lead[1]);
    // "allow with attestation", "approve after review", "approved (subject to sign-off)": an allow with a
    // condition is an attestation; an allow that also names deny is ambiguous.
    if (value === "allow" && /\bdeny\b|\bdenied\b|\breject/i.test(rest))
      return { ok: false, reason: "ambiguous" };
    if (value === "allow" && QUALIFIER.test(rest)) return { ok: true, value: "require_attestation" };
    return { ok: true, value };
  }
  const found = new Set<DecisionValue>();
  for (const m of v.matchAll(DECISION_WORD)) {
    const before = v.slice(0, m.index);
    if (endsNegated(before)) return { ok: false, reason: "ambiguous" };
    found.add(decisionOf(m[1] ?? ""));
  }
  if (found.size === 0) return { ok: false, reason: "none" };
  // "approved pending attestation": an allow qualified by attestation is an attestation.
  if (found.size === 2 && found.has("allow") && found.has("require_attestation"))
    return { ok: true, value: "require_attestation" };
  if (found.size > 1) return { ok: false, reason: "ambiguous" };
  const [only] = found;
  if (only === "allow" && QUALIFIER.test(v)) return { ok: true, value: "require_attestation" };
  return { ok: true, value: only as DecisionValue };
}

/** Reads a risk level; "medium-high" takes the higher one, "moderate" is medium. */
export function parseRiskValue(raw: string): RiskLevel | undefined {
  const v = stripEmphasis(raw).toLowerCase();
  let best = -1;
  for (const m of v.matchAll(/\b(low|medium|moderate|high|critical|severe)\b/g)) {
    const word = m[1] === "moderate" ? "medium" : m[1] === "severe" ? "critical" : (m[1] as RiskLevel);
    best = Math.max(best, RISK_ORDER.indexOf(word));
  }
  return best >= 0 ? RISK_ORDER[best] : undefined;
}

/** A snake_case label from whatever the model wrote ("Unusual Timing Commit" -> "unusual_timing_commit"). */
export function normaliseClassification(raw: string): string {
  // The first replace leaves no run of "_", so one "_" is all there is to trim at either end; /_+$/ would
  // rescan a long run from each of its starts.
  return stripEmphasis(raw)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, ADVICE_LIMITS.classification)
    .replace(/_$/, "");
}

export const cleanText = (s: string): string => stripEmphasis(s).replace(/\s+/g, " ").trim();

const THINKING_TAGS = ["think", "thinking", "reasoning"] as const;

/** The thinking tag opened at `at` ("<think>", any case), if one is. */
function openingTag(text: string, at: number): string | undefined {
  for (const tag of THINKING_TAGS) {
    const end = at + 1 + tag.length;
    if (text[end] === ">" && text.slice(at + 1, end).toLowerCase() === tag) return tag;
  }
  return undefined;
}

/** Where "</tag>" (any case) first starts at or after `from`, or -1. */
function closingTag(text: string, tag: string, from: number): number {
  for (let at = text.indexOf("</", from); at >= 0; at = text.indexOf("</", at + 2)) {
    const end = at + 2 + tag.length;
    if (text[end] === ">" && text.slice(at + 2, end).toLowerCase() === tag) return at;
  }
  return -1;
}

/**
 * Removes a reasoning model's thinking ("<think>...</think>", "<reasoning>...</reasoning>"): drafts there may
 * name other decisions and must not count as answers. An unterminated block (generation cut off) is all
 * thinking. One pass, each character read once or twice: the regex form (a lazy block with a backreference)
 * was cubic on repeated unclosed tags.
 */
export function stripThinking(text: string): string {
  let out = "";
  let kept = 0; // text before this is copied or dropped
  for (let at = text.indexOf("<"); at >= 0; at = text.indexOf("<", at + 1)) {
    const tag = openingTag(text, at);
    if (tag === undefined) continue;
    const close = closingTag(text, tag, at + tag.length + 2);
    out += `${text.slice(kept, at)} `;
    if (close < 0) return out; // cut off while thinking: the rest is thinking
    kept = close + tag.length + 3;
    at = kept - 1;
  }
  return kept === 0 ? text : out + text.slice(kept);
}
