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
  /**
   * Least privilege by resource: resource ids (see `resources`) this role may not touch ("deny") or only
   * with a human's attestation ("attest"), whatever its classes permit. The strictest limit of every
   * matching resource applies.
   */
  resourceLimits: z.record(z.string(), z.enum(["deny", "attest"])).default({}),
});

export const ActionClassDefSchema = z.strictObject({
  description: z.string().optional(),
  baseRisk: RiskLevelSchema,
  /**
   * Patterns matched against the normalised action type and each of its word tokens (case-insensitive).
   * Every class that matches counts and the riskiest wins: `read_then_drop_database` is admin.
   */
  patterns: z.array(pattern).min(1),
  /** Minimum trust (lowest T3 dimension) for this class. */
  threshold: score,
});

export const ResourceRiskSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "expected a snake_case id" }),
  description: z.string(),
  /** How the reasoning names such a resource, e.g. "publicly published documentation", "a production environment". */
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
  /**
   * A change to this resource has the effect of this class whatever the action is called: a write to a
   * file that grants roles or permissions (CODEOWNERS, RBAC bindings, IAM policy) is an admin action.
   */
  changesAs: ActionClassSchema.optional(),
});

/** What the engine does with a request it cannot fully account for, per assessed risk level. */
export const UncertainHandlingSchema = z.enum(["attest", "interpreter", "allow"]);
export type UncertainHandling = z.infer<typeof UncertainHandlingSchema>;

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
  /**
   * Tokens naming roles, permissions, ownership or credentials: a change to them (write, or no known verb)
   * is an admin action; a read of them is a read whose target is matched like a resource.
   */
  privilegedNouns: z.array(pattern).default([]),
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
    /**
     * The one structured field that declares an active incident. Break-glass comes from this field alone,
     * never from free text or from other fields whose names merely look similar.
     */
    incidentField: z.string().min(1).default("incident_status"),
    /** Values of that field (case-insensitive) that mean an incident is active. */
    activeValues: z
      .array(z.string().min(1))
      .default(["sev0", "sev1", "sev2", "p0", "p1", "critical", "major", "active", "ongoing", "declared"]),
    /** Break-glass is never offered below this trust (lowest T3 dimension). */
    minTrust: score.default(0.5),
  }),
  /**
   * The one structured approval field: `{ approver, approved_at }`. It counts only when the approver is in
   * the actor directory with a role that may perform the action's class, is not the actor, and approved no
   * later than the request and no earlier than `maxAgeHours` before it.
   */
  approvals: z
    .strictObject({
      field: z.string().min(1).default("approval"),
      maxAgeHours: z.number().positive().default(24),
    })
    .default({ field: "approval", maxAgeHours: 24 }),
  /**
   * Requests the engine cannot fully account for (free text it did not understand, unknown fields, risk
   * words it could not place), by assessed risk: `attest` (require attestation), `interpreter` (ask the
   * interpreter in hybrid; attest with the rules alone), `allow` (ignore). At low and medium risk only
   * unplaced risk words make a request uncertain; at high and critical risk any unexplained text does.
   */
  uncertain: z
    .strictObject({
      low: UncertainHandlingSchema,
      medium: UncertainHandlingSchema,
      high: UncertainHandlingSchema,
      critical: UncertainHandlingSchema,
    })
    .default({ low: "allow", medium: "interpreter", high: "interpreter", critical: "interpreter" }),
  /** Actor directory for R6Requests that carry no role. */
  actors: z.record(z.string(), z.string()).default({}),
  /**
   * Baseline trust (T3) of individual actors, declared by the policy's owners: used when a request carries
   * no trust of its own (an AuthZEN subject without `properties.trust`). Optional, with no default, so a
   * policy without it keeps its revision.
   */
  actorTrust: z
    .record(z.string(), z.strictObject({ competence: score, reliability: score, integrity: score }))
    .optional(),
  /**
   * Working hours of individual actors (night shifts, other zones), declared by the policy's owners: the
   * only way an off-hours request stops being a deviation. Text in a request can never do this.
   */
  actorHours: z
    .record(
      z.string(),
      z.strictObject({
        start: z.number().min(0).max(24),
        end: z.number().min(0).max(24),
        timeZone: z.string(),
      }),
    )
    .default({}),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
export type RoleDef = z.infer<typeof RoleSchema>;
export type ResourceRisk = z.infer<typeof ResourceRiskSchema>;
