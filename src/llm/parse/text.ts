import type { DecisionValue, RiskLevel } from "../../schemas/common.js";
import type { Advice, Reasoning } from "../../schemas/decision.js";
import { ADVICE_LIMITS } from "./advice-schema.js";
import {
  cleanText,
  normaliseClassification,
  parseDecisionValue,
  parseRiskValue,
  stripEmphasis,
  stripThinking,
} from "./normalise.js";
import { failure, type ParseResult } from "./result.js";

/**
 * Parser of the reference system's free-text answer:
 *
 *   Classification: unusual_timing_commit
 *   Risk Level: medium
 *   Decision: require_attestation
 *   Reasoning:
 *   1. Role check: ...
 *   2. Trust check: ...
 *   3. Environment: ...
 *   4. Context: ...
 *   Policy References:
 *   - rule: ...
 *
 * It tolerates what models do to that form: any case and spacing, markdown headings, bold labels, bullets
 * and numbering, "require attestation" for "require_attestation", labels on their own line with the value
 * below, and chatter before and after. It never guesses a decision: a missing, ambiguous or conflicting
 * decision is a typed failure.
 */

type Field = "classification" | "risk" | "decision" | "reasoning" | "references" | keyof Reasoning;

const LABELS: ReadonlyArray<readonly [Field, RegExp]> = [
  ["classification", /^(?:classification|category|situation\s+type)$/],
  ["risk", /^(?:risk(?:\s+level)?|risk\s+assessment|risklevel|risk_level)$/],
  ["decision", /^(?:(?:final\s+)?decision|verdict|recommendation)$/],
  ["reasoning", /^(?:reasoning|rationale|analysis)$/],
  [
    "references",
    /^(?:policy\s+references?|policy_references|references?|policies\s+applied|cited\s+polic(?:y|ies))$/,
  ],
  ["roleCheck", /^(?:role(?:\s+check)?|role_check|rolecheck)$/],
  ["trustCheck", /^(?:trust(?:\s+check)?|trust_check|trustcheck)$/],
  ["environment", /^(?:environment(?:al)?(?:\s+(?:risk|check|assessment))?|environment_risk)$/],
  ["context", /^(?:context(?:\s+(?:check|analysis))?|contextual\s+factors|context_check)$/],
];

const CHECK_FIELDS: ReadonlyArray<keyof Reasoning> = ["roleCheck", "trustCheck", "environment", "context"];
const isCheck = (f: Field): f is keyof Reasoning => (CHECK_FIELDS as readonly string[]).includes(f);

/** The longest text we read: a runaway generation must not make parsing slow. */
export const MAX_PARSE_CHARS = 64_000;

interface LabelLine {
  field: Field;
  value: string;
}

/** Markdown furniture at the start of a line: heading marks, quotes, bullets, numbering ("1." "2)" "Step 1:"). */
function stripLinePrefix(line: string): { text: string; heading: boolean } {
  let t = line.trim();
  const heading = /^#{1,6}\s/.test(t);
  t = t.replace(/^#{1,6}\s+/, "").replace(/^>\s*/, "");
  t = t.replace(/^(?:[-*+•]\s+)/, "");
  t = t.replace(/^\**\s*(?:step\s+)?\(?\d{1,2}[.)](?:\s+|(?=\*\*))/i, (m) =>
    m.startsWith("**") ? "**" : "",
  );
  return { text: t, heading };
}

/**
 * A label: words of letters and "_" separated by spaces, 2 to 41 characters (checked after matching). The
 * words cannot overlap the spaces around them, so a failed match backtracks in linear time; the old
 * `[A-Za-z _]{1,40}?\s*` let a space belong to either and was quadratic on long blank runs.
 */
const LABEL = "([A-Za-z][A-Za-z_]*(?: +[A-Za-z_]+)*)";
const LABEL_WITH_VALUE = new RegExp(String.raw`^${LABEL}\s*(?:[:：]|\s[-–—]\s|[–—])`);
const BARE_LABEL = new RegExp(String.raw`^${LABEL}\s*(?::\s*)?$`);
const labelLength = (label: string | undefined): label is string =>
  label !== undefined && label.length >= 2 && label.length <= 41;

function matchLabel(line: string): LabelLine | undefined {
  const { text, heading } = stripLinePrefix(line);
  const plain = stripEmphasis(text).trim();
  // "Label: value", "Label - value", "Label — value", or a bare label on a heading / bold line.
  const m = LABEL_WITH_VALUE.exec(plain);
  const bare = BARE_LABEL.exec(plain);
  const boldOnly = /^\*\*[^*]+\*\*:?\s*$/.test(text);
  const candidates: Array<[string, string]> = [];
  const inline = m?.[1];
  // The value: the rest after blanks, on this one line (a line break in it means no label here).
  const rest = m ? plain.slice(m[0].length).trimStart() : "";
  if (labelLength(inline) && !/[\n\r\u2028\u2029]/.test(rest)) candidates.push([inline, rest]);
  const bareLabel = bare?.[1];
  if (labelLength(bareLabel) && (heading || boldOnly || /:\s*$/.test(plain)))
    candidates.push([bareLabel, ""]);
  for (const [label, value] of candidates) {
    const key = label.trim().toLowerCase().replace(/\s+/g, " ");
    for (const [field, re] of LABELS) if (re.test(key)) return { field, value: value.trim() };
  }
  return undefined;
}

interface Section {
  field: Field;
  lines: string[];
}

function sections(text: string): Section[] {
  const out: Section[] = [];
  let current: Section | undefined;
  for (const rawLine of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(rawLine)) continue;
    let label = matchLabel(rawLine);
    // "- trust: ..." in the references list is a rule id, not the trust check.
    if (
      label &&
      current?.field === "references" &&
      isCheck(label.field) &&
      /^\s*(?:[-*+•]|\d{1,2}[.)])\s/.test(rawLine)
    ) {
      label = undefined;
    }
    if (label) {
      current = { field: label.field, lines: label.value ? [label.value] : [] };
      out.push(current);
    } else if (current) {
      current.lines.push(rawLine);
    }
  }
  return out;
}

/** The value of a one-line field: its inline value, or else the first non-blank line below the label. */
function firstValue(s: Section): string {
  for (const l of s.lines) {
    const t = stripLinePrefix(l).text.trim();
    if (t) return t;
  }
  return "";
}

/** Text of a section up to the first blank line after some content (later lines are usually chatter). */
function paragraph(s: Section): string {
  const kept: string[] = [];
  for (const l of s.lines) {
    if (!l.trim()) {
      if (kept.length) break;
      continue;
    }
    kept.push(stripLinePrefix(l).text);
  }
  return cleanText(kept.join(" "));
}

function references(s: Section): string[] {
  const refs: string[] = [];
  const [inline, ...rest] = s.lines;
  const first = (inline ?? "").trim();
  const listed = /^(?:[-*+•]\s+|\d{1,2}[.)]\s+)/;
  if (first && !listed.test(first)) {
    if (!/^(none|n\/a|-)$/i.test(cleanText(first))) refs.push(...first.split(/;\s*/).map(cleanText));
  } else if (first) {
    refs.push(cleanText(first.replace(listed, "")));
  }
  for (const l of rest) {
    const t = l.trim();
    if (!t) {
      if (refs.length) break;
      continue;
    }
    if (!listed.test(t)) break; // prose after the list is chatter
    refs.push(cleanText(t.replace(listed, "")));
  }
  return refs
    .filter((r) => r.length > 0)
    .slice(0, ADVICE_LIMITS.policyReferences * 2)
    .map((r) => r.slice(0, ADVICE_LIMITS.policyReference * 2));
}

/** When the reasoning lists four unlabeled points, they are the four checks in order. */
function numberedChecks(s: Section): string[] {
  const items: string[] = [];
  for (const l of s.lines) {
    const t = l.trim();
    if (/^(?:[-*+•]|\d{1,2}[.)])\s+/.test(t))
      items.push(cleanText(t.replace(/^(?:[-*+•]|\d{1,2}[.)])\s+/, "")));
    else if (t && items.length) items[items.length - 1] += ` ${cleanText(t)}`;
  }
  return items;
}

export function parseFreeText(input: string): ParseResult<Advice> {
  const text = stripThinking(input.slice(0, MAX_PARSE_CHARS)).replace(/\r\n?/g, "\n");
  if (!text.trim()) return failure("empty", "the model returned no text");
  const secs = sections(text);
  if (secs.length === 0)
    return failure("no_answer", "no labelled answer (Decision:, Reasoning: ...) in the text");

  // Decision: every labelled decision that reads clearly must agree; echoed templates are skipped.
  const decisions = new Set<DecisionValue>();
  let sawAmbiguous = false;
  for (const s of secs.filter((x) => x.field === "decision")) {
    const d = parseDecisionValue(firstValue(s));
    if (d.ok) decisions.add(d.value);
    else if (d.reason === "ambiguous") sawAmbiguous = true;
  }
  if (decisions.size > 1) {
    return failure(
      "conflicting_answers",
      `the text gives several decisions: ${[...decisions].join(", ")}`,
      "decision",
    );
  }
  if (decisions.size === 0) {
    return sawAmbiguous
      ? failure("ambiguous_decision", "the decision names several decisions or negates one", "decision")
      : secs.some((s) => s.field === "decision")
        ? failure("invalid_value", "the decision is not allow, deny or require_attestation", "decision")
        : failure("missing_field", "no Decision: line", "decision");
  }
  const decision = [...decisions][0] as DecisionValue;

  const riskSec = secs.find((s) => s.field === "risk");
  if (!riskSec) return failure("missing_field", "no Risk Level: line", "riskLevel");
  const riskLevel: RiskLevel | undefined = parseRiskValue(firstValue(riskSec));
  if (!riskLevel)
    return failure("invalid_value", "the risk level is not low, medium, high or critical", "riskLevel");

  const classSec = secs.find((s) => s.field === "classification");
  const classification = classSec ? normaliseClassification(firstValue(classSec)) : "";
  if (!classification) return failure("missing_field", "no Classification: line", "classification");

  const warnings: string[] = [];
  const reasoning: Reasoning = { roleCheck: "", trustCheck: "", environment: "", context: "" };
  for (const s of secs) {
    if (isCheck(s.field) && !reasoning[s.field]) reasoning[s.field] = paragraph(s);
  }
  const reasoningSec = secs.find((s) => s.field === "reasoning");
  if (CHECK_FIELDS.every((f) => !reasoning[f]) && reasoningSec) {
    const items = numberedChecks(reasoningSec);
    if (items.length >= 4) {
      for (const [i, f] of CHECK_FIELDS.entries()) reasoning[f] = items[i] ?? "";
    } else if (paragraph(reasoningSec)) {
      reasoning.context = paragraph(reasoningSec);
      warnings.push("reasoning without the four labelled checks: kept as context");
    }
  }
  if (CHECK_FIELDS.every((f) => !reasoning[f]))
    return failure("missing_field", "no reasoning in the answer", "reasoning");
  for (const f of CHECK_FIELDS) {
    if (!reasoning[f]) {
      reasoning[f] = "(not stated)";
      warnings.push(`reasoning.${f} missing`);
    }
    reasoning[f] = reasoning[f].slice(0, ADVICE_LIMITS.reasoningField * 3);
  }

  const refSec = secs.find((s) => s.field === "references");
  const advice: Advice = {
    decision,
    classification,
    riskLevel,
    reasoning,
    policyReferences: refSec ? references(refSec) : [],
  };
  return { ok: true, advice, format: "text", warnings };
}
