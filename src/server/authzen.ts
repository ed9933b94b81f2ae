import { z } from "zod";
import type { AdvisoryAnswer, AdvisoryInput } from "../advisor/pipeline.js";
import type { PolicyDocument } from "../policy/schema.js";
import { type DecisionValue, DecisionValueSchema } from "../schemas/common.js";
import { type FieldIssue, InvalidRequestError, issuesFromZod } from "../schemas/errors.js";
import { parseRequest } from "../schemas/request.js";

/**
 * The OpenID AuthZEN Authorization API 1.0 in front of the decision pipeline: the spec's request shapes,
 * the mapping of an evaluation to a situation (docs/authzen.md), and the three-way answer as the spec's
 * boolean decision with its context. Pure: the routes (src/server/routes/authzen.ts) do the HTTP.
 */

/** A string that names something (the spec's REQUIRED `type`, `id`, `name`). */
const named = (what: string) =>
  z
    .string({ error: `expected ${what} (a string)` })
    .refine((s) => s.trim() !== "", { error: `expected ${what}, got an empty string` });

const properties = z.record(z.string(), z.unknown(), { error: "expected an object" });

// Loose at every level: the spec says receivers MUST ignore unknown fields.
export const AuthzenSubjectSchema = z.looseObject({
  type: named("the subject's type, such as user, service or agent"),
  id: named("the subject's id"),
  properties: properties.optional(),
});
export const AuthzenActionSchema = z.looseObject({
  name: named("the action's name"),
  properties: properties.optional(),
});
export const AuthzenResourceSchema = z.looseObject({
  type: named("the resource's type"),
  id: named("the resource's id"),
  properties: properties.optional(),
});
export const AuthzenContextSchema = z.record(z.string(), z.unknown(), { error: "expected an object" });

export const AuthzenEvaluationSchema = z.looseObject({
  subject: AuthzenSubjectSchema,
  action: AuthzenActionSchema,
  resource: AuthzenResourceSchema,
  context: AuthzenContextSchema.optional(),
});
export type AuthzenEvaluation = z.infer<typeof AuthzenEvaluationSchema>;

export const EVALUATIONS_SEMANTICS = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

export const AuthzenEvaluationsSchema = z.looseObject({
  subject: AuthzenSubjectSchema.optional(),
  action: AuthzenActionSchema.optional(),
  resource: AuthzenResourceSchema.optional(),
  context: AuthzenContextSchema.optional(),
  evaluations: z.array(AuthzenEvaluationSchema.partial()).optional(),
  options: z.looseObject({ evaluations_semantic: z.enum(EVALUATIONS_SEMANTICS).optional() }).optional(),
});

export const AuthzenDecisionSchema = z.object({
  decision: z.boolean(),
  context: z.record(z.string(), z.unknown()).optional(),
});
export type AuthzenDecision = z.infer<typeof AuthzenDecisionSchema>;
export const AuthzenEvaluationsAnswerSchema = z.object({ evaluations: z.array(AuthzenDecisionSchema) });

export const AuthzenMetadataSchema = z.object({
  policy_decision_point: z.string(),
  access_evaluation_endpoint: z.string(),
  access_evaluations_endpoint: z.string(),
});

/** The one context field this service reads for itself: `context.policy_advisor`. */
export const CONTROL_FIELD = "policy_advisor";
const ControlFieldSchema = z.strictObject({
  control: DecisionValueSchema.optional().describe(
    "your own engine's decision, for shadow and advisory modes (as `control` on /v1/advisory)",
  ),
});

/**
 * Situation fields the mapping fills from subject, action and resource: a context key of the same name
 * would contradict them, so it is refused (400) rather than silently dropped or allowed to win.
 */
const MAPPED_FIELDS = new Set([
  "action_type",
  "actor_role",
  "actor_id",
  "t3_tensor",
  "resource",
  "timestamp",
  "identity_metrics",
  "parameters",
  "request_id",
  "subject_properties",
  "resource_properties",
  "r6_extra",
]);

/** Subject properties the mapping reads; any others are kept as `subject_properties`. */
const SUBJECT_MAPPED = new Set(["role", "trust", "identity_metrics"]);

/** Where each part of one evaluation came from: its own object or the batch's top-level default. */
export interface EvaluationPaths {
  subject: string;
  action: string;
  resource: string;
  context: string;
}

export const SINGLE_PATHS: EvaluationPaths = {
  subject: "subject",
  action: "action",
  resource: "resource",
  context: "context",
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates the spec's shapes of one evaluation; each issue names its AuthZEN path. */
export function parseEvaluation(body: unknown, paths: EvaluationPaths = SINGLE_PATHS): AuthzenEvaluation {
  if (!isObject(body)) {
    throw new InvalidRequestError(
      [{ path: "", message: "expected a JSON object with subject, action and resource" }],
      "invalid AuthZEN evaluation",
    );
  }
  const issues: FieldIssue[] = [];
  const part = <T>(key: keyof EvaluationPaths, schema: z.ZodType<T>, required: boolean): T | undefined => {
    const value = body[key];
    if (value === undefined) {
      if (required) issues.push({ path: paths[key], message: "required" });
      return undefined;
    }
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    issues.push(...issuesFromZod(r.error, paths[key]));
    return undefined;
  };
  const subject = part("subject", AuthzenSubjectSchema, true);
  const action = part("action", AuthzenActionSchema, true);
  const resource = part("resource", AuthzenResourceSchema, true);
  const context = part("context", AuthzenContextSchema, false);
  if (issues.length > 0 || !subject || !action || !resource) {
    throw new InvalidRequestError(issues, "invalid AuthZEN evaluation");
  }
  return { subject, action, resource, ...(context !== undefined ? { context } : {}) };
}

/**
 * One AuthZEN evaluation as the pipeline's situation (docs/authzen.md, "The mapping"):
 * subject type:id → actor_id; role and trust from subject.properties, else the policy's actor
 * directory; action.name → action_type; resource type:id → resource; context.time → timestamp and the
 * rest of the context as situation fields. What the mapping cannot fill is a 400 naming the AuthZEN path.
 */
export function evaluationToInput(
  evaluation: AuthzenEvaluation,
  doc: PolicyDocument,
  opts: { paths?: EvaluationPaths; requestId?: string } = {},
): AdvisoryInput {
  const paths = opts.paths ?? SINGLE_PATHS;
  const { subject, action, resource } = evaluation;
  const context = evaluation.context ?? {};
  const props = subject.properties ?? {};
  const issues: FieldIssue[] = [];
  /** Situation field → the AuthZEN path it came from, to name a bad value where it was sent. */
  const origin: Record<string, string> = {};
  const situation: Record<string, unknown> = {};
  const set = (field: string, value: unknown, from: string) => {
    situation[field] = value;
    origin[field] = from;
  };

  // Where a missing role or trust would have come from, for the issues parsing the situation raises.
  origin.actor_role = `${paths.subject}.properties.role`;
  origin.t3_tensor = `${paths.subject}.properties.trust`;
  const actorId = `${subject.type.trim()}:${subject.id.trim()}`;
  set("actor_id", actorId, `${paths.subject}.id`);
  set("action_type", action.name, `${paths.action}.name`);
  set("resource", `${resource.type.trim()}:${resource.id.trim()}`, `${paths.resource}.id`);

  const role = props.role;
  if (role !== undefined) {
    if (typeof role !== "string" || role.trim() === "")
      issues.push({ path: `${paths.subject}.properties.role`, message: "expected a role name (a string)" });
    else set("actor_role", role, `${paths.subject}.properties.role`);
  } else if (Object.hasOwn(doc.actors, actorId)) {
    // As for an R6Request: the engine takes the role from the directory (and says so in its reasoning).
    set("actor_role", "", `${paths.subject}.properties.role`);
  } else {
    issues.push({
      path: `${paths.subject}.properties.role`,
      message: `required: the policy's actor directory (actors) lists no role for ${actorId}`,
    });
  }

  const trust = props.trust ?? doc.actorTrust?.[actorId];
  if (trust !== undefined) set("t3_tensor", trust, `${paths.subject}.properties.trust`);
  else {
    issues.push({
      path: `${paths.subject}.properties.trust`,
      message: `required: {competence, reliability, integrity} scores between 0 and 1 (the policy's actorTrust lists none for ${actorId})`,
    });
  }
  if (props.identity_metrics !== undefined)
    set("identity_metrics", props.identity_metrics, `${paths.subject}.properties.identity_metrics`);
  const otherSubject = Object.entries(props).filter(([k]) => !SUBJECT_MAPPED.has(k));
  if (otherSubject.length > 0)
    set("subject_properties", Object.fromEntries(otherSubject), `${paths.subject}.properties`);
  if (action.properties !== undefined) set("parameters", action.properties, `${paths.action}.properties`);
  if (resource.properties !== undefined)
    set("resource_properties", resource.properties, `${paths.resource}.properties`);

  let control: DecisionValue | undefined;
  for (const [key, value] of Object.entries(context)) {
    const path = `${paths.context}.${key}`;
    if (key === CONTROL_FIELD) {
      const r = ControlFieldSchema.safeParse(value);
      if (r.success) control = r.data.control;
      else issues.push(...issuesFromZod(r.error, path));
    } else if (key === "time") {
      set("timestamp", value, path);
    } else if (MAPPED_FIELDS.has(key)) {
      issues.push({
        path,
        message:
          key === "timestamp"
            ? "not accepted: send the time as context.time"
            : `not accepted: ${key} is set from the subject, action and resource (docs/authzen.md)`,
      });
    } else {
      set(key, value, path);
    }
  }
  if (opts.requestId) situation.request_id = opts.requestId;

  let parsed: AdvisoryInput["parsed"] | undefined;
  try {
    parsed = parseRequest(situation);
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    for (const issue of err.issues) {
      const [head = "", ...rest] = issue.path.split(/(?=[.[])/);
      const from = origin[head];
      // Paths of the mapped value, below the AuthZEN path it came from (t3_tensor.integrity → ...trust.integrity).
      const path = from ? `${from}${rest.join("")}` : issue.path || paths.subject;
      if (!issues.some((i) => i.path === path)) issues.push({ path, message: issue.message });
    }
  }
  if (issues.length > 0 || !parsed) throw new InvalidRequestError(issues, "invalid AuthZEN evaluation");
  return control !== undefined ? { parsed, control } : { parsed };
}

/** The obligation carried by a decision that needs a human's attestation (docs/authzen.md). */
export const ATTESTATION_OBLIGATION = "human_attestation";

/** One sentence for the end user, from the decision the caller applies. */
function userReason(answer: AdvisoryAnswer): string {
  switch (answer.effectiveDecision) {
    case "allow":
      return "This request is allowed.";
    case "deny":
      return "This request is not allowed; ask your administrator if you need this access.";
    default:
      return answer.source === "fallback"
        ? "The access check could not be completed, so a person must confirm this request before it goes ahead."
        : "A person must confirm this request before it goes ahead.";
  }
}

/**
 * The three-way answer as an AuthZEN decision: `true` only for an effective allow. A deny is `false`;
 * require_attestation is `false` with the obligation to obtain a human's attestation, so a client that
 * ignores the context still fails closed. The context carries the decision id, the four-step reasoning
 * (`reason_admin`) and one sentence for the end user (`reason_user`).
 */
export function toAuthzenDecision(answer: AdvisoryAnswer): AuthzenDecision {
  const effective = answer.effectiveDecision;
  const context: Record<string, unknown> = {
    decision_id: answer.decisionId,
    advice: answer.decision,
    effective_decision: effective,
    mode: answer.mode,
    ...(answer.tier ? { tier: answer.tier } : {}),
    risk_level: answer.riskLevel,
    classification: answer.classification,
    source: answer.source,
    reason_admin: {
      role_check: answer.reasoning.roleCheck,
      trust_check: answer.reasoning.trustCheck,
      environment: answer.reasoning.environment,
      context: answer.reasoning.context,
    },
    reason_user: userReason(answer),
  };
  if (effective === "require_attestation") {
    context.obligations = [
      {
        id: ATTESTATION_OBLIGATION,
        description:
          "Obtain a human's attestation before the action proceeds; until then this decision is false.",
        decision_id: answer.decisionId,
      },
    ];
  }
  if (answer.fallbackCause) context.fallback_cause = answer.fallbackCause;
  if (answer.deferred) context.deferred = true;
  return { decision: effective === "allow", context };
}
