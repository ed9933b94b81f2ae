import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { QueueFullError } from "../../advisor/patterns/queue.js";
import type { DecideOptions } from "../../advisor/pipeline.js";
import { InvalidRequestError, issuesFromZod } from "../../schemas/errors.js";
import { trimEndChar } from "../../util/text.js";
import {
  AuthzenActionSchema,
  AuthzenContextSchema,
  type AuthzenDecision,
  AuthzenDecisionSchema,
  type AuthzenEvaluation,
  AuthzenEvaluationSchema,
  AuthzenEvaluationsAnswerSchema,
  AuthzenEvaluationsSchema,
  AuthzenMetadataSchema,
  AuthzenResourceSchema,
  AuthzenSubjectSchema,
  EVALUATIONS_SEMANTICS,
  type EvaluationPaths,
  type EvaluationsSemantic,
  evaluationToInput,
  parseEvaluation,
  SINGLE_PATHS,
  toAuthzenDecision,
} from "../authzen.js";
import type { ServerContext } from "../context.js";
import { HttpError } from "../errors.js";
import { ErrorSchema } from "../schemas.js";
import { parsedBy } from "../validation.js";
import { DeadlineHeaderSchema, refuseWhenClosing, requestDeadline, toErrorBody } from "./advisory.js";

export const AUTHZEN_EVALUATION_PATH = "/access/v1/evaluation";
export const AUTHZEN_EVALUATIONS_PATH = "/access/v1/evaluations";
export const AUTHZEN_METADATA_PATH = "/.well-known/authzen-configuration";

export interface AuthzenOptions {
  /**
   * The PDP identifier published in the metadata (`policy_decision_point`), e.g. the https URL callers
   * use. Without it, the scheme and Host of the metadata request.
   */
  publicUrl?: string;
}

/** The PEP's X-Request-ID, echoed on the answer as the spec asks (also on errors). */
const echoRequestId: onSendHookHandler = (request, reply, payload, done) => {
  const id = request.headers["x-request-id"];
  const value = Array.isArray(id) ? id[0] : id;
  if (value !== undefined && value !== "") reply.header("X-Request-ID", value);
  done(null, payload);
};

const requestIdOf = (request: FastifyRequest): string | undefined => {
  const id = request.headers["x-request-id"];
  const value = Array.isArray(id) ? id[0] : id;
  return value?.trim() ? value : undefined;
};

const RequestIdHeaderSchema = DeadlineHeaderSchema.extend({
  "x-request-id": z
    .string()
    .optional()
    .describe("the PEP's request identifier: echoed in the answer and kept as request_id in the log"),
});

interface ParsedBatch {
  /** No `evaluations` (or an empty array): the body is one evaluation. */
  single: boolean;
  body: Record<string, unknown>;
  items: Record<string, unknown>[];
  semantic: EvaluationsSemantic;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The Access Evaluations body: what pertains to the whole payload is checked here (400), items later. */
function parseBatch(data: unknown, batchMax: number): ParsedBatch {
  if (!isObject(data)) {
    throw new InvalidRequestError(
      [{ path: "", message: "expected a JSON object with evaluations (and optional defaults)" }],
      "invalid AuthZEN evaluations request",
    );
  }
  const issues: { path: string; message: string }[] = [];
  const { evaluations, options } = data;
  let semantic: EvaluationsSemantic = "execute_all";
  if (options !== undefined) {
    if (!isObject(options)) issues.push({ path: "options", message: "expected an object" });
    else if (options.evaluations_semantic !== undefined) {
      const s = options.evaluations_semantic;
      if (typeof s === "string" && (EVALUATIONS_SEMANTICS as readonly string[]).includes(s))
        semantic = s as EvaluationsSemantic;
      else
        issues.push({
          path: "options.evaluations_semantic",
          message: `expected one of ${EVALUATIONS_SEMANTICS.join(", ")}`,
        });
    }
  }
  let items: Record<string, unknown>[] = [];
  if (evaluations !== undefined) {
    if (!Array.isArray(evaluations)) {
      issues.push({ path: "evaluations", message: "expected an array of evaluations" });
    } else if (evaluations.length > batchMax) {
      issues.push({
        path: "evaluations",
        message: `at most ${batchMax} evaluations per request, got ${evaluations.length}`,
      });
    } else {
      evaluations.forEach((item, i) => {
        if (!isObject(item)) issues.push({ path: `evaluations[${i}]`, message: "expected an object" });
      });
      items = evaluations as Record<string, unknown>[];
    }
  }
  // Top-level defaults apply to every item: a malformed one is an error of the whole payload.
  const defaults = [
    ["subject", AuthzenSubjectSchema],
    ["action", AuthzenActionSchema],
    ["resource", AuthzenResourceSchema],
    ["context", AuthzenContextSchema],
  ] as const;
  for (const [key, schema] of defaults) {
    if (data[key] === undefined || items.length === 0) continue;
    const r = schema.safeParse(data[key]);
    if (!r.success) issues.push(...issuesFromZod(r.error, key));
  }
  if (issues.length > 0) throw new InvalidRequestError(issues, "invalid AuthZEN evaluations request");
  return { single: items.length === 0, body: data, items, semantic };
}

/** One item of a batch: its own subject, action, resource and context, else the top-level defaults. */
function mergeItem(
  body: Record<string, unknown>,
  item: Record<string, unknown>,
  i: number,
): { merged: Record<string, unknown>; paths: EvaluationPaths } {
  const merged: Record<string, unknown> = {};
  const paths = { ...SINGLE_PATHS };
  for (const key of ["subject", "action", "resource", "context"] as const) {
    if (item[key] !== undefined) {
      merged[key] = item[key];
      paths[key] = `evaluations[${i}].${key}`;
    } else if (body[key] !== undefined) {
      merged[key] = body[key];
    } else {
      // Named where it is missing: the item (a default would have served too).
      paths[key] = `evaluations[${i}].${key}`;
    }
  }
  return { merged, paths };
}

const statusOf = (err: unknown): number =>
  err instanceof InvalidRequestError
    ? 400
    : err instanceof QueueFullError
      ? 429
      : err instanceof HttpError
        ? err.statusCode
        : 500;

/**
 * The OpenID AuthZEN Authorization API 1.0 (docs/authzen.md): Access Evaluation, Access Evaluations
 * (batch, with the three evaluation semantics) and the PDP metadata. Every evaluation goes through the
 * same DecisionPipeline as POST /v1/advisory: modes, control, log, metrics, queue limits.
 */
export async function authzenRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  opts: AuthzenOptions = {},
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const publicUrl = opts.publicUrl === undefined ? undefined : trimEndChar(opts.publicUrl, "/");

  const decideOne = async (
    request: FastifyRequest,
    evaluation: AuthzenEvaluation,
    paths: EvaluationPaths,
    decideOpts: DecideOptions,
  ): Promise<AuthzenDecision> => {
    const requestId = requestIdOf(request);
    const input = evaluationToInput(evaluation, ctx.service.currentAdvisor.policy.doc, {
      paths,
      ...(requestId ? { requestId } : {}),
    });
    return toAuthzenDecision(await ctx.service.decide(input, decideOpts));
  };

  const decideOptions = (request: FastifyRequest): DecideOptions => {
    const deadlineMs = requestDeadline(request, ctx);
    return {
      log: request.log,
      signal: ctx.shutdown.signal,
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
      ...(request.traceContext ? { traceContext: request.traceContext } : {}),
    };
  };

  r.post(
    AUTHZEN_EVALUATION_PATH,
    {
      config: { role: "caller" },
      onSend: echoRequestId,
      schema: {
        summary: "AuthZEN 1.0 Access Evaluation: one decision (true only for allow; see docs/authzen.md)",
        headers: RequestIdHeaderSchema,
        body: parsedBy(AuthzenEvaluationSchema, (data) => parseEvaluation(data)),
        response: { 200: AuthzenDecisionSchema, 400: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      refuseWhenClosing(ctx);
      return decideOne(request, request.body as AuthzenEvaluation, SINGLE_PATHS, decideOptions(request));
    },
  );

  r.post(
    AUTHZEN_EVALUATIONS_PATH,
    {
      config: { role: "caller" },
      onSend: echoRequestId,
      schema: {
        summary:
          "AuthZEN 1.0 Access Evaluations: several decisions, top-level defaults, options.evaluations_semantic",
        headers: RequestIdHeaderSchema,
        body: parsedBy(AuthzenEvaluationsSchema, (data) => parseBatch(data, ctx.batchMax)),
        response: {
          200: z.union([AuthzenEvaluationsAnswerSchema, AuthzenDecisionSchema]),
          400: ErrorSchema,
          429: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      refuseWhenClosing(ctx);
      const batch = request.body as unknown as ParsedBatch;
      const options = decideOptions(request);
      // No evaluations: backwards compatible with the single Access Evaluation request and answer.
      if (batch.single) return decideOne(request, parseEvaluation(batch.body), SINGLE_PATHS, options);

      const evaluate = async (item: Record<string, unknown>, i: number): Promise<AuthzenDecision> => {
        const { merged, paths } = mergeItem(batch.body, item, i);
        try {
          return await decideOne(request, parseEvaluation(merged, paths), paths, options);
        } catch (err) {
          const status = statusOf(err);
          if (status >= 500 && !(err instanceof HttpError)) request.log.error({ err }, "evaluation failed");
          const body = toErrorBody(err);
          // Failures default to closed: decision false, the error in the item's context.
          return { decision: false, context: { error: { status, ...body } } };
        }
      };

      if (batch.semantic === "execute_all")
        return { evaluations: await Promise.all(batch.items.map(evaluate)) };
      // Short-circuiting semantics run in order and stop at the first deny (or failure) or permit.
      const stopOn = batch.semantic !== "deny_on_first_deny";
      const evaluations: AuthzenDecision[] = [];
      for (const [i, item] of batch.items.entries()) {
        const result = await evaluate(item, i);
        evaluations.push(result);
        if (result.decision === stopOn) {
          const error = result.context?.error as { status?: number } | undefined;
          result.context = {
            ...result.context,
            code: String(error?.status ?? 200),
            reason: batch.semantic,
          };
          break;
        }
      }
      return { evaluations };
    },
  );

  r.get(
    AUTHZEN_METADATA_PATH,
    {
      config: { role: "public" },
      onSend: echoRequestId,
      schema: {
        summary: "AuthZEN 1.0 Policy Decision Point metadata (the endpoints this PDP serves)",
        response: { 200: AuthzenMetadataSchema },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const base = publicUrl ?? `${request.protocol}://${request.host}`;
      reply.type("application/json");
      return {
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}${AUTHZEN_EVALUATION_PATH}`,
        access_evaluations_endpoint: `${base}${AUTHZEN_EVALUATIONS_PATH}`,
      };
    },
  );
}
