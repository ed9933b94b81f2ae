import type { DecisionRecord, DecisionValue, ReviewCategory } from "./types.js";

export const DECISION_LABEL: Record<DecisionValue, string> = {
  allow: "Allow",
  deny: "Deny",
  require_attestation: "Require attestation",
};

export const CATEGORY_LABEL: Record<ReviewCategory, string> = {
  agree: "Agree",
  too_strict: "Too strict",
  too_permissive: "Too permissive",
  unclear: "Unclear",
};

/** A rate in 0..1 as a percentage; null means "no sample", which must not read as 0 %. */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "no sample";
  return `${(rate * 100).toFixed(1)} %`;
}

/** A rate with the number of cases behind it, when known: "12.5 % (8 reviewed)". */
export function rateOf(rate: number | null | undefined, sample: number | undefined, what: string): string {
  const shown = pct(rate);
  return sample === undefined || rate === null || rate === undefined ? shown : `${shown} (${sample} ${what})`;
}

/** What the two review rates measure, in one sentence each, for the pages that show them. */
export const RATES_EXPLAINED =
  "Agreement rate: how often the advice equals the caller's own decision (the control). " +
  "Override rate: how often a reviewer's final decision differs from the advice.";

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "n/a";
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

/** A time as the reader's clock shows it, with the zone named ("3 Mar 2026, 15:00:00 UTC"). */
export function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  });
}

/** The reader's time zone as the times show it ("UTC", "CET", "GMT+2"), for labels of local-time fields. */
export function zoneName(at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "local time";
}

export function humanize(label: string): string {
  return label.replace(/_/g, " ");
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Actor and action of a logged request, whichever of the two request shapes it came in. */
export function summarize(record: DecisionRecord): { actor: string; action: string; target: string } {
  const input = isObject(record.input) ? record.input : {};
  const action = isObject(input.action) ? input.action : {};
  const str = (v: unknown): string => (typeof v === "string" ? v : "");
  return {
    actor: str(input.actor_id) || str(input.actorId),
    action: str(input.action_type) || str(action.type),
    target: str(input.resource) || str(action.target),
  };
}

/** Ordering from strictest to most permissive, to suggest the override category. */
const PERMISSIVENESS: Record<DecisionValue, number> = { deny: 0, require_attestation: 1, allow: 2 };

export function suggestCategory(advice: DecisionValue, final: DecisionValue): ReviewCategory {
  const diff = PERMISSIVENESS[final] - PERMISSIVENESS[advice];
  if (diff === 0) return "agree";
  // The reviewer lets more through than the advisor would: the advisor was too strict.
  return diff > 0 ? "too_strict" : "too_permissive";
}
