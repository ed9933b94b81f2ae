import { z } from "zod";
import { RiskLevelSchema } from "../schemas/common.js";
import { checkPattern, describeVerdict } from "../util/regex-safety.js";

/** Action classes in rising base risk. Every action type falls into exactly one. */
export const ActionClassSchema = z.enum(["read", "write", "deploy", "admin"]);
export type ActionClass = z.infer<typeof ActionClassSchema>;

/** How the engine compiles policy patterns (src/engine/compiled.ts); the analysis must see the same flags. */
const PATTERN_FLAGS = "i";

/**
 * A policy regex: valid, and linear-time on every input, since action types and resources come from callers
 * and a backtracking pattern would let one request stall the decision thread.
 */
const pattern = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, PATTERN_FLAGS);
  } catch {
    ctx.addIssue({ code: "custom", message: "expected a valid regular expression" });
    return;
  }
  const verdict = checkPattern(s, PATTERN_FLAGS);
  if (!verdict.safe) {
    ctx.addIssue({
      code: "custom",
      message: `pattern /${s}/${PATTERN_FLAGS} can take super-linear time (${describeVerdict(verdict)}); rewrite it without nested or overlapping quantifiers`,
    });
  }
});

const score = z.number().min(0).max(1);

export const RoleSchema = z.strictObject({
  description: z.string().optional(),
  /** Action classes the role may perform. */
  classes: z.array(ActionClassSchema),
  /** Individual action types permitted beyond the classes. */
  allowActions: z.array(z.string()).default([]),
  /** Individual action types refused even when the class is permitted. */
  denyActions: z.array(z.string()).default([]),
  /** Automation (bots): eligible for the established-automation mitigation. */
  automation: z.boolean().default(false),
});

export const ActionClassDefSchema = z.strictObject({
  description: z.string().optional(),
  baseRisk: RiskLevelSchema,
  /** Patterns matched against the action type (case-insensitive). First class in order admin, deploy, write, read wins. */
  patterns: z.array(pattern).min(1),
  /** Minimum trust (lowest T3 dimension) for this class. */
  threshold: score,
});

export const ResourceRiskSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "expected a snake_case id" }),
  description: z.string(),
  /** How the reasoning names such a resource, e.g. "a public resource", "a production environment". */
  label: z.string().optional(),
  patterns: z.array(pattern).min(1),
  /** Risk of each action class on this resource. */
  risk: z.strictObject({
    read: RiskLevelSchema,
    write: RiskLevelSchema,
    deploy: RiskLevelSchema,
    admin: RiskLevelSchema,
  }),
  /** Production-like: changes here are high-impact and deploys here are production deploys. */
  production: z.boolean().default(false),
  /** Critical infrastructure (audit, authentication, access control, secrets). */
  critical: z.boolean().default(false),
});

export const PolicyDocumentSchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  roles: z.record(z.string(), RoleSchema),
  actionClasses: z.strictObject({
    read: ActionClassDefSchema,
    write: ActionClassDefSchema,
    deploy: ActionClassDefSchema,
    admin: ActionClassDefSchema,
  }),
  /** Class of an action type no pattern matches: fail closed to a high class. */
  unknownActionClass: ActionClassSchema.default("admin"),
  resources: z.array(ResourceRiskSchema),
  trust: z.strictObject({
    /** Minimum trust per assessed risk level; the effective threshold is the higher of class and risk. */
    byRisk: z.strictObject({ low: score, medium: score, high: score, critical: score }),
    /** Below threshold by less than this: borderline (attestation); further below: deny. */
    borderlineBand: score,
    /** Above threshold by less than this on a high-risk target: a narrow margin (noted, not escalated). */
    narrowMargin: score,
  }),
  identity: z.strictObject({
    /** Identity coherence below this is a decline signal. */
    minCoherence: score,
    /** Exemplary automation needs at least this coherence and this trust. */
    exemplaryCoherence: score,
    exemplaryTrust: score,
  }),
  workingHours: z.strictObject({
    timeZone: z.string().refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { error: "expected an IANA time zone such as America/New_York" },
    ),
    start: z.number().int().min(0).max(23),
    end: z.number().int().min(1).max(24),
    days: z.array(z.number().int().min(0).max(6)).default([1, 2, 3, 4, 5]),
  }),
  emergency: z.strictObject({
    /** During an active incident, an actor whose role lacks one of these classes gets attestation, not deny. */
    breakGlassClasses: z.array(ActionClassSchema).default(["write", "deploy"]),
  }),
  /** Actor directory for R6Requests that carry no role. */
  actors: z.record(z.string(), z.string()).default({}),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
export type RoleDef = z.infer<typeof RoleSchema>;
export type ResourceRisk = z.infer<typeof ResourceRiskSchema>;
