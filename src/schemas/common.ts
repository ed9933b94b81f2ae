import { z } from "zod";
import { isBlankName } from "../util/unicode.js";

/** A trust or coherence score: every score in the contracts lives in 0..1. */
export const unitScore = z
  .number({ error: "expected a number between 0 and 1" })
  .min(0, {
    error: "expected a number between 0 and 1",
  })
  .max(1, { error: "expected a number between 0 and 1" });

/** T3 trust tensor (competence, reliability, integrity). Extra dimensions are kept. */
export const T3Schema = z.looseObject({
  competence: unitScore,
  reliability: unitScore,
  integrity: unitScore,
});
export type T3 = z.infer<typeof T3Schema>;

export const isoTimestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
  error: "expected an ISO 8601 date-time",
});

/** A name that must name something: empty, blank or invisible-only strings name nobody (400). */
export const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what} (a string)` })
    .min(1, { error: `expected ${what}, got an empty string` })
    .refine((s) => s === "" || !isBlankName(s), {
      error: `expected ${what}, got only whitespace or invisible characters`,
    });

export const RiskLevelSchema = z.enum(["low", "medium", "high", "critical"]);
export type RiskLevel = z.infer<typeof RiskLevelSchema>;

/** The one risk order, lowest first: every comparison of risk levels goes through it. */
export const RISK_ORDER: readonly RiskLevel[] = RiskLevelSchema.options;
export const riskRank = (r: RiskLevel): number => RISK_ORDER.indexOf(r);
/** The riskiest of the levels given ("low" for none). */
export const maxRisk = (...levels: RiskLevel[]): RiskLevel =>
  levels.reduce<RiskLevel>((a, b) => (riskRank(b) > riskRank(a) ? b : a), "low");

/** Rollout modes in rising authority: the advice is logged (shadow), shown (advisory) or applied (enforce). */
export const ModeSchema = z.enum(["shadow", "advisory", "enforce"]);
export type Mode = z.infer<typeof ModeSchema>;
export const MODE_RANK: Readonly<Record<Mode, number>> = { shadow: 0, advisory: 1, enforce: 2 };

export const DecisionValueSchema = z.enum(["allow", "deny", "require_attestation"]);
export type DecisionValue = z.infer<typeof DecisionValueSchema>;
