import fc from "fast-check";
import type { Advice, CompactAdvice } from "../../../src/schemas/decision.js";

/** Words that cannot be mistaken for a label or a decision, so a generated reasoning text stays one field. */
const WORDS = [
  "the",
  "actor",
  "pushes",
  "code",
  "at",
  "night",
  "staging",
  "repository",
  "score",
  "of",
  "0.82",
  "is",
  "above",
  "threshold",
  "production",
  "impact",
  "pattern",
  "deviation",
  "verification",
  "needed",
  "team",
  "history",
  "shows",
  "five",
  "successful",
  "runs",
  "config",
  "change",
  "auto-deploys",
  "(high)",
  "bot",
  "exemplary",
  "identity",
  "coherence",
  "declining",
  "sufficient",
  "insufficient",
  "permission",
  "admin-only",
];

export const sentence = fc
  .array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 18 })
  .map((w) => `${w.join(" ")}.`.replace(/^./, (c) => c.toUpperCase()));

export const snakeLabel = fc
  .array(
    fc.constantFrom(
      "unusual",
      "timing",
      "commit",
      "deploy",
      "trust",
      "borderline",
      "admin",
      "action",
      "config",
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((w) => w.join("_"));

export const adviceArb: fc.Arbitrary<Advice> = fc.record({
  decision: fc.constantFrom("allow", "deny", "require_attestation"),
  classification: snakeLabel,
  riskLevel: fc.constantFrom("low", "medium", "high", "critical"),
  reasoning: fc.record({
    roleCheck: sentence,
    trustCheck: sentence,
    environment: sentence,
    context: sentence,
  }),
  policyReferences: fc.array(
    fc.tuple(snakeLabel, sentence).map(([id, s]) => `${id}: ${s}`),
    { maxLength: 3 },
  ),
});

export const compactAdviceArb: fc.Arbitrary<CompactAdvice> = fc.record({
  classification: snakeLabel,
  riskLevel: fc.constantFrom("low", "medium", "high", "critical"),
  decision: fc.constantFrom("allow", "deny", "require_attestation"),
  context: sentence,
  policyReferences: fc.array(
    fc.tuple(snakeLabel, sentence).map(([id, s]) => `${id}: ${s}`),
    { maxLength: 1 },
  ),
});

/** How a model may dress up the reference text format. */
export interface Style {
  labelCase: "title" | "upper" | "lower";
  bold: boolean;
  heading: boolean;
  bullets: "numbers" | "dashes" | "none" | "stars";
  attestationSpelling: "underscore" | "space" | "title" | "hyphen";
  valueOnNextLine: boolean;
  spaceBeforeColon: boolean;
  preamble: string;
  epilogue: string;
  crlf: boolean;
}

export const styleArb: fc.Arbitrary<Style> = fc.record({
  labelCase: fc.constantFrom("title", "upper", "lower"),
  bold: fc.boolean(),
  heading: fc.boolean(),
  bullets: fc.constantFrom("numbers", "dashes", "none", "stars"),
  attestationSpelling: fc.constantFrom("underscore", "space", "title", "hyphen"),
  valueOnNextLine: fc.boolean(),
  spaceBeforeColon: fc.boolean(),
  preamble: fc.constantFrom("", "Here is my analysis of the request.\n", "Sure! Let me evaluate this.\n\n"),
  epilogue: fc.constantFrom("", "\nI hope this helps.", "\n\nLet me know if you need more detail."),
  crlf: fc.boolean(),
});

function label(name: string, s: Style): string {
  const cased =
    s.labelCase === "upper" ? name.toUpperCase() : s.labelCase === "lower" ? name.toLowerCase() : name;
  return s.bold
    ? `**${cased}${s.spaceBeforeColon ? " " : ""}:**`
    : `${cased}${s.spaceBeforeColon ? " " : ""}:`;
}

function decisionWord(d: Advice["decision"], s: Style): string {
  if (d !== "require_attestation") return s.labelCase === "upper" ? d.toUpperCase() : d;
  return {
    underscore: "require_attestation",
    space: "require attestation",
    title: "Require Attestation",
    hyphen: "require-attestation",
  }[s.attestationSpelling];
}

/** Renders advice in the reference text format, in the given style. */
export function renderText(a: Advice, s: Style): string {
  const field = (name: string, value: string): string => {
    if (s.heading) return `## ${name}\n${value}`;
    return s.valueOnNextLine ? `${label(name, s)}\n${value}` : `${label(name, s)} ${value}`;
  };
  const bullet = (i: number): string =>
    s.bullets === "numbers"
      ? `${i + 1}. `
      : s.bullets === "dashes"
        ? "- "
        : s.bullets === "stars"
          ? "* "
          : "";
  const checks: Array<[string, string]> = [
    ["Role check", a.reasoning.roleCheck],
    ["Trust check", a.reasoning.trustCheck],
    ["Environment", a.reasoning.environment],
    ["Context", a.reasoning.context],
  ];
  const lines = [
    s.preamble,
    field("Classification", a.classification),
    field("Risk Level", s.labelCase === "upper" ? a.riskLevel.toUpperCase() : a.riskLevel),
    field("Decision", decisionWord(a.decision, s)),
    s.heading ? "## Reasoning" : label("Reasoning", s),
    ...checks.map(([n, v], i) => `${bullet(i)}${label(n, s)} ${v}`),
    s.heading ? "## Policy References" : label("Policy References", s),
    ...a.policyReferences.map((r) => `- ${r}`),
    s.epilogue,
  ];
  const text = lines.join("\n");
  return s.crlf ? text.replace(/\n/g, "\r\n") : text;
}
