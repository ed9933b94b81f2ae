import { z } from "zod";
import type { AdvisoryInput } from "../advisor/pipeline.js";
import { DecisionValueSchema, ModeSchema } from "../schemas/common.js";
import { DecisionSchema, TierSchema } from "../schemas/decision.js";
import { InvalidRequestError, issuesFromZod } from "../schemas/errors.js";
import { R6RequestSchema } from "../schemas/r6.js";
import { parseRequest } from "../schemas/request.js";
import { SituationSchema } from "../schemas/situation.js";

/**
 * HTTP schemas. The same zod schemas validate requests (src/server/validation.ts) and describe them in
 * /openapi.json. Request bodies go through parseRequest, which detects the shape and names each bad field.
 */

export const ControlSchema = z.strictObject({ decision: DecisionValueSchema });

export const EnvelopeSchema = z.strictObject({
  request: z.union([SituationSchema, R6RequestSchema]),
  control: ControlSchema.optional(),
});

export const AdvisoryBodySchema = z
  .union([SituationSchema, R6RequestSchema, EnvelopeSchema])
  .describe(
    "a situation (snake_case), an R6Request (camelCase), or {request, control} with the caller's decision",
  );

export const AdvisoryAnswerSchema = DecisionSchema.extend({
  mode: ModeSchema,
  effectiveDecision: DecisionValueSchema,
  deferred: z.boolean().optional(),
});

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/**
 * A body field that would name who acted (`reviewer`, `by`). Refused, not ignored: who acted is recorded
 * from the bearer token, and a client sending a name must learn that it is not the one recorded.
 */
export const refusedIdentityField = (field: string) =>
  z
    .never({
      error: `not accepted: who acted is recorded from the bearer token's name ("anonymous" with auth off), so leave out ${field}`,
    })
    .optional()
    .describe("refused: who acted comes from the bearer token");

export const BatchBodySchema = z.strictObject({ requests: z.array(AdvisoryBodySchema) });
export const BatchAnswerSchema = z.object({ results: z.array(z.union([AdvisoryAnswerSchema, ErrorSchema])) });

export const JobAcceptedSchema = z.object({
  jobId: z.string(),
  status: z.literal("pending"),
  location: z.string(),
});
export const JobParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const JobViewSchema = z.object({
  jobId: z.string(),
  status: z.enum(["pending", "done", "failed"]),
  createdAt: z.string(),
  completedAt: z.string().optional(),
  result: AdvisoryAnswerSchema.optional(),
  error: ErrorSchema.shape.error.optional(),
});

export const HealthSchema = z.object({ status: z.literal("ok") });
export const ReadySchema = z.object({
  ready: z.boolean(),
  reason: z.string().optional(),
  /** Ready, but an operator should act soon (e.g. the decision log above 90% of its size limit). */
  warnings: z.array(z.string()).optional(),
  checks: z.object({
    policy: z.string(),
    model: z.string().nullable(),
    store: z.string(),
    /** The decision log's size and limit, e.g. "12.5 MB of 1.0 GB (1%)" or "12.5 MB (no limit)". */
    logSize: z.string(),
    circuit: z.enum(["closed", "open", "half_open"]).nullable(),
    /** With --queue: the shared queue and its workers, e.g. "redis://10.0.0.5:6379: 2 workers". */
    queue: z.string().optional(),
  }),
});

export const RuntimeSchema = z.object({
  cache: z.object({
    enabled: z.boolean(),
    size: z.number(),
    hits: z.number(),
    misses: z.number(),
    hitRate: z.number().nullable(),
  }),
  queue: z.object({ depth: z.number(), running: z.number(), capacity: z.number(), concurrency: z.number() }),
  llm: z
    .object({ kind: z.string(), model: z.string(), prompt: z.string(), parallelism: z.number() })
    .nullable(),
  circuit: z.enum(["closed", "open", "half_open"]).nullable(),
  engine: z.string(),
  versions: DecisionSchema.shape.versions,
  jobs: z.object({ pending: z.number(), finished: z.number() }),
  modes: z.record(TierSchema, ModeSchema),
  /** With --queue: the shared queue, the whole deployment's numbers (every sidecar sees the same). */
  sharedQueue: z
    .object({
      url: z.string(),
      workers: z.number(),
      waiting: z.number(),
      active: z.number(),
      delayed: z.number(),
      completed: z.number(),
      failed: z.number(),
      capacity: z.number(),
      perCaller: z.number(),
      drainPerSecond: z.number().nullable(),
      oldestWaitSeconds: z.number(),
      stalled: z.number(),
      retries: z.number(),
    })
    .or(z.object({ url: z.string(), error: z.string() }))
    .optional(),
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses one advisory body: a request, or {request, control}. Issue paths name fields as sent. */
export function parseAdvisoryBody(body: unknown, pathPrefix = ""): AdvisoryInput {
  const at = (p: string) => (pathPrefix ? (p ? `${pathPrefix}.${p}` : pathPrefix) : p);
  if (isObject(body) && "request" in body) {
    const extra = Object.keys(body).filter((k) => k !== "request" && k !== "control");
    const issues = extra.map((k) => ({
      path: at(k),
      message: "unknown field (expected only request and control)",
    }));
    let control: AdvisoryInput["control"];
    if (body.control !== undefined) {
      const c = ControlSchema.safeParse(body.control);
      if (c.success) control = c.data.decision;
      else issues.push(...issuesFromZod(c.error, at("control")));
    }
    let parsed: AdvisoryInput["parsed"] | undefined;
    try {
      parsed = parseRequest(body.request);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      issues.push(
        ...err.issues.map((i) => ({
          path: at(i.path ? `request.${i.path}` : "request"),
          message: i.message,
        })),
      );
    }
    if (issues.length > 0 || !parsed) throw new InvalidRequestError(issues, "invalid advisory request");
    return control !== undefined ? { parsed, control } : { parsed };
  }
  try {
    return { parsed: parseRequest(body) };
  } catch (err) {
    if (!(err instanceof InvalidRequestError) || !pathPrefix) throw err;
    throw new InvalidRequestError(
      err.issues.map((i) => ({ path: at(i.path), message: i.message })),
      "invalid advisory request",
    );
  }
}
