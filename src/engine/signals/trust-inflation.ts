import { firstOf, type Gap, Phrase } from "../scan.js";
import type { Detector, Finding } from "./types.js";

const WITHIN_40: Gap = { max: 40, stops: ".;" };
const WITHIN_30: Gap = { max: 30, stops: ".;" };

/**
 * The alternatives of one former regex, in its order (the first match is quoted, so the order matters:
 * see firstOf). The texts are folded: one space between words.
 */
const CLOSED_GROUP = [
  new Phrase(
    /\b(?:closed|tight|small|isolated|insular|single|same) (?:group|circle|cluster|clique|network|team|org\w*|community)\b/g,
    [[WITHIN_40, /\b(?:vouch|endors|attest|witness|rat|trust)\w*/y]],
  ),
  new Phrase(/\b(?:vouch|endors|attest|witness|rat)\w*\b/g, [
    [
      WITHIN_40,
      /\b(?:each other|one another|mutual\w*|reciprocal\w*|in a (?:ring|loop|circle)|only (?:by )?(?:members|friends|accounts) of)/y,
    ],
  ]),
  new Phrase(
    /\b(?:sybil|collu\w*|sock ?puppet|circular (?:trust|endorse\w*|vouch\w*|attest\w*)|ring of (?:accounts|identities|members))/g,
  ),
  new Phrase(/\b(?:all|every) (?:\d+ )?(?:witness\w*|vouch\w*|endorse\w*|attest\w*|reviewers?)\b/g, [
    [WITHIN_30, /\b(?:same|one|single) (?:team|org\w*|group|company|cluster|ip|subnet|household)/y],
  ]),
  new Phrase(/\btrust (?:score )?(?:rose|jumped|spiked|surged|shot up|increased)\b/g, [
    [
      WITHIN_30,
      /\b(?:rapidly|quickly|sharply|suddenly|overnight|within|in (?:a|one|two|\d+) (?:day|days|hours?|week))/y,
    ],
  ]),
];

/** Trust that is itself unreliable: inflated inside a closed group rather than earned across independent witnesses. */
export const detectTrustInflation: Detector = (ctx) => {
  for (const t of ctx.texts) {
    const m = firstOf(CLOSED_GROUP, t.lower);
    if (m) return [inflated(t.path, m.text)];
  }
  return [];
};

function inflated(path: string, quote: string): Finding {
  return {
    id: "unreliable_trust",
    severity: "warn",
    detail: `${path}: "${quote.slice(0, 100)}": trust comes from a closed group`,
    effect: "escalate",
    rule: "trust.provenance: trust inflated within a closed group is unreliable and cannot grant membership or privileges",
    step: "trust",
    phrase:
      "the trust scores are unreliable: they were built up inside a closed group rather than by independent witnesses",
    suspicious: true,
    unreliableTrust: true,
  };
}
