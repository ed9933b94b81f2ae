import type { Detector } from "./types.js";

const CLOSED_GROUP =
  /\b((closed|tight|small|isolated|insular|single|same)\s+(group|circle|cluster|clique|network|team|org\w*|community)\b[^.;]{0,40}\b(vouch|endors|attest|witness|rat|trust)\w*|(vouch|endors|attest|witness|rat)\w*\b[^.;]{0,40}\b(each other|one another|mutual\w*|reciprocal\w*|in a (ring|loop|circle)|only (by )?(members|friends|accounts) of)|sybil|collu\w*|sock ?puppet|circular (trust|endorse\w*|vouch\w*|attest\w*)|ring of (accounts|identities|members)|(all|every)\s+(\d+\s+)?(witness\w*|vouch\w*|endorse\w*|attest\w*|reviewers?)\b[^.;]{0,30}\b(same|one|single)\s+(team|org\w*|group|company|cluster|ip|subnet|household)|trust (score )?(rose|jumped|spiked|surged|shot up|increased)\b[^.;]{0,30}\b(rapidly|quickly|sharply|suddenly|overnight|within|in (a|one|two|\d+) (day|days|hours?|week)))/;

/** Trust that is itself unreliable: inflated inside a closed group rather than earned across independent witnesses. */
export const detectTrustInflation: Detector = (ctx) => {
  const t = ctx.texts.find((x) => CLOSED_GROUP.test(x.lower));
  if (!t) return [];
  const m = CLOSED_GROUP.exec(t.lower);
  return [
    {
      id: "unreliable_trust",
      severity: "warn",
      detail: `${t.path}: "${(m?.[0] ?? "").slice(0, 100)}": trust comes from a closed group`,
      effect: "escalate",
      rule: "trust.provenance: trust inflated within a closed group is unreliable and cannot grant membership or privileges",
      step: "trust",
      phrase:
        "the trust scores are unreliable: they were built up inside a closed group rather than by independent witnesses",
      suspicious: true,
      unreliableTrust: true,
    },
  ];
};
