import { stemmer } from "stemmer";
import { trimChar } from "../util/text.js";

/**
 * Lexical reasoning-coverage matcher: does the reasoning express each expected element, in any wording?
 * An element is found by exact phrase first; then by its content words (stemmed, with synonym groups)
 * all appearing within one phrase-level chunk of the reasoning, or, for elements of four or more words,
 * all but one of them within a chunk.
 */

const STOP = new Set(
  "a an the of to for and or in on at by with is are be been was were it its this that as from into than then so such not no".split(
    " ",
  ),
);

/** Words that express the same idea in policy reasoning. Inflections are listed: each is stemmed. */
const GROUPS: string[][] = [
  [
    "allow",
    "allowed",
    "allowing",
    "permit",
    "permitted",
    "grant",
    "approve",
    "approved",
    "authorize",
    "accept",
  ],
  ["deny", "denied", "denial", "refuse", "refused", "reject", "block", "forbid", "forbidden", "prohibit"],
  [
    "insufficient",
    "inadequate",
    "lack",
    "lacks",
    "lacking",
    "below",
    "short",
    "unable",
    "fails",
    "insufficiently",
  ],
  ["sufficient", "adequate", "meets", "meet", "enough", "satisfies", "satisfy", "ample"],
  ["trust", "trusted", "trustworthy", "t3", "trustworthiness"],
  [
    "verification",
    "verify",
    "verified",
    "attestation",
    "attest",
    "confirm",
    "confirmation",
    "check",
    "validation",
    "validate",
  ],
  ["additional", "extra", "further", "more", "second"],
  [
    "unusual",
    "atypical",
    "anomaly",
    "anomalous",
    "abnormal",
    "irregular",
    "odd",
    "uncharacteristic",
    "unexpected",
  ],
  [
    "deviation",
    "deviates",
    "deviate",
    "departure",
    "departs",
    "change",
    "changes",
    "shift",
    "break",
    "differs",
  ],
  [
    "pattern",
    "patterns",
    "history",
    "habit",
    "habits",
    "behavior",
    "behaviour",
    "routine",
    "trend",
    "record",
  ],
  ["timing", "time", "hour", "hours", "night", "schedule", "late"],
  ["risk", "risky", "danger", "dangerous", "hazard"],
  ["high", "elevated", "significant", "major", "higher"],
  ["environment", "target", "resource", "system", "systems"],
  ["production", "prod", "live"],
  ["role", "roles", "permission", "permissions", "privilege", "privileges", "authority", "rights"],
  ["admin", "administrator", "administrative", "administration"],
  ["only", "exclusive", "exclusively", "solely", "restricted", "reserved"],
  ["action", "actions", "operation", "request", "task"],
  ["read", "reading", "view", "viewing"],
  ["public", "open", "published"],
  [
    "recommend",
    "recommended",
    "advise",
    "advised",
    "suggest",
    "suggested",
    "should",
    "needs",
    "need",
    "require",
    "required",
    "requires",
  ],
  ["emergency", "incident", "outage", "urgent", "crisis"],
  ["context", "situation", "circumstances"],
  ["oversight", "supervision", "human", "approver", "sign-off", "signoff", "supervised"],
  ["solo", "alone", "independently", "unilaterally", "unsupervised", "single-handedly"],
  ["investigate", "investigation", "examine", "scrutinize", "scrutiny", "probe", "look"],
  ["before", "prior", "first", "until"],
  ["exemplary", "excellent", "outstanding", "model"],
  ["automation", "automated", "automatic", "automatically", "auto", "bot", "ci", "pipeline", "machine"],
  ["established", "proven", "consistent", "long-standing", "track"],
  ["config", "configuration", "setting", "settings"],
  ["code", "source"],
  ["distinction", "distinguish", "unlike", "vs", "versus", "rather", "difference"],
  ["impact", "effect", "consequence", "affects", "affect"],
  ["deploy", "deployment", "deploys", "release", "ship", "rollout"],
  ["baseline", "base", "historical", "usual", "normally"],
  ["recent", "recently", "latest", "last", "past"],
  ["decline", "declining", "declines", "decreasing", "dropping", "drop", "falling", "worsening", "degrading"],
  ["failure", "failures", "failed", "failing", "errors"],
  ["identity", "identities"],
  ["coherence", "coherent", "consistency"],
];

const stem = (w: string) => stemmer(w);
const CANON = new Map<string, string>();
for (const g of GROUPS) {
  const id = stem(g[0]!);
  for (const w of g)
    for (const part of w.split(/[-\s]/)) if (!CANON.has(stem(part))) CANON.set(stem(part), id);
}

const normalise = (s: string) =>
  s
    .toLowerCase()
    .replace(/[_/]/g, " ")
    .replace(/[^a-z0-9.\s-]/g, " ")
    .replace(/\s+/g, " ")
    .trim();

/** Content words of a phrase as canonical stems. */
export function conceptStems(phrase: string): string[] {
  return normalise(phrase)
    .split(/[\s-]+/)
    .map((w) => trimChar(w, "."))
    .filter((w) => w && !STOP.has(w))
    .map((w) => {
      const s = stem(w);
      return CANON.get(s) ?? s;
    });
}

/** Phrase-level chunks of the reasoning: sentences, and clauses split at ; : and commas. */
export function chunks(text: string): string[] {
  const sentences = text.split(/(?<=[.!?])\s+/).filter(Boolean);
  const clauses = text.split(/[.;:!?]\s+|,\s+/).filter(Boolean);
  return [...new Set([...sentences, ...clauses])];
}

export interface ElementMatch {
  element: string;
  matched: boolean;
  how: "exact" | "lexical" | "semantic" | "none";
  chunk?: string;
  similarity?: number;
}

export function matchElementLexically(
  element: string,
  reasoning: string,
  precomputed?: Array<[string, Set<string>]>,
): ElementMatch {
  const text = normalise(reasoning);
  const el = normalise(element);
  if (el && text.includes(el)) return { element, matched: true, how: "exact" };
  const want = [...new Set(conceptStems(element))];
  if (want.length === 0) return { element, matched: false, how: "none" };
  const parts =
    precomputed ?? chunks(reasoning).map((c) => [c, new Set(conceptStems(c))] as [string, Set<string>]);
  const need = want.length >= 4 ? want.length - 1 : want.length;
  for (const [chunk, have] of parts) {
    const hits = want.filter((w) => have.has(w)).length;
    if (hits >= need) return { element, matched: true, how: "lexical", chunk };
  }
  return { element, matched: false, how: "none" };
}

/** Coverage of every element over the whole reasoning: share matched, and which. */
export function lexicalCoverage(
  elements: string[],
  reasoning: string,
): { coverage: number; matches: ElementMatch[] } {
  if (elements.length === 0) return { coverage: 1, matches: [] };
  const parts = chunks(reasoning).map((c) => [c, new Set(conceptStems(c))] as [string, Set<string>]);
  const matches = elements.map((e) => matchElementLexically(e, reasoning, parts));
  return { coverage: matches.filter((m) => m.matched).length / elements.length, matches };
}
