import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { newDecisionId } from "../../advisor/decision-id.js";
import { QueueFullError } from "../../advisor/patterns/queue.js";
import type { AdvisoryInput } from "../../advisor/pipeline.js";
import { InvalidRequestError } from "../../schemas/errors.js";
import type { ServerContext } from "../context.js";
import { type ErrorBody, errorAnswer, HttpError } from "../errors.js";
import {
  AdvisoryAnswerSchema,
  AdvisoryBodySchema,
  BatchAnswerSchema,
  BatchBodySchema,
  ErrorSchema,
  JobAcceptedSchema,
  JobParamsSchema,
  JobViewSchema,
  parseAdvisoryBody,
} from "../schemas.js";
import { parsedBy } from "../validation.js";

/** Documents the optional header; requestDeadline() parses it with a message naming it. */
export const DeadlineHeaderSchema = z.looseObject({
  "x-deadline-ms": z
    .string()
    .optional()
    .describe("a shorter deadline for this request, in milliseconds (never longer than the service's)"),
});

const advisoryBody = parsedBy(AdvisoryBodySchema, (data) => parseAdvisoryBody(data));

/** An error as a batch item or a failed job carries it: the same shape as an error answer. */
export function toErrorBody(err: unknown): ErrorBody["error"] {
  return errorAnswer(err).body.error;
}

/**
 * A caller's own, shorter deadline for this request (X-Deadline-Ms), e.g. what is left of its budget.
 * It can only shorten the service's deadline, never lengthen it.
 */
export function requestDeadline(request: FastifyRequest, ctx: ServerContext): number | undefined {
  const n = deadlineHeader(request);
  return n === undefined ? undefined : Math.min(n, ctx.service.deadlineMs);
}

/** X-Deadline-Ms as sent, refused with a message naming it when it is not a whole number >= 1. */
function deadlineHeader(request: FastifyRequest): number | undefined {
  const raw = request.headers["x-deadline-ms"];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1) {
    throw new InvalidRequestError([
      {
        path: "headers.x-deadline-ms",
        message: `expected a whole number of milliseconds >= 1, got "${value}"`,
      },
    ]);
  }
  return n;
}

/**
 * An async job's own deadline (X-Deadline-Ms): past it, a job still waiting is answered by the fail-closed
 * fallback instead of being run. At most the job retention (--job-ttl); none when the header is absent.
 */
function jobDeadline(request: FastifyRequest, ctx: ServerContext): number | undefined {
  const n = deadlineHeader(request);
  return n === undefined ? undefined : Math.min(n, ctx.jobTtlMs);
}

/** Who a job counts against for the per-caller limit: the token's name, else the address (as a digest). */
function callerOf(request: FastifyRequest): string {
  const who = request.principal?.name ? `token:${request.principal.name}` : `address:${request.ip}`;
  return createHash("sha256").update(who, "utf8").digest("hex").slice(0, 32);
}

export function refuseWhenClosing(ctx: ServerContext): void {
  if (ctx.closing)
    throw new HttpError("shutting_down", "the service is shutting down", { "Retry-After": "5" });
}

/** POST /v1/advisory (synchronous), POST /v1/advisory/batch, and the async pattern POST/GET /v1/jobs. */
export async function advisoryRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/advisory",
    {
      config: { role: "caller" },
      schema: {
        summary: "Decide one request (synchronous, within the deadline)",
        headers: DeadlineHeaderSchema,
        body: advisoryBody,
        response: { 200: AdvisoryAnswerSchema, 400: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      refuseWhenClosing(ctx);
      const deadlineMs = requestDeadline(request, ctx);
      return ctx.service.decide(request.body as unknown as AdvisoryInput, {
        log: request.log,
        signal: ctx.shutdown.signal,
        ...(deadlineMs !== undefined ? { deadlineMs } : {}),
        ...(request.traceContext ? { traceContext: request.traceContext } : {}),
      });
    },
  );

  const batchBody = parsedBy(
    BatchBodySchema.describe("up to batchMax requests, answered in order"),
    (data) => {
      if (typeof data !== "object" || data === null || Array.isArray(data) || !("requests" in data)) {
        throw new InvalidRequestError([
          { path: "requests", message: 'expected {"requests": [request, ...]}' },
        ]);
      }
      const extra = Object.keys(data).filter((k) => k !== "requests");
      if (extra.length > 0) {
        throw new InvalidRequestError(
          extra.map((k) => ({ path: k, message: "unknown field (expected only requests)" })),
        );
      }
      const items = (data as { requests: unknown }).requests;
      if (!Array.isArray(items) || items.length === 0) {
        throw new InvalidRequestError([
          { path: "requests", message: "expected a non-empty array of requests" },
        ]);
      }
      if (items.length > ctx.batchMax) {
        throw new InvalidRequestError([
          { path: "requests", message: `at most ${ctx.batchMax} requests per batch, got ${items.length}` },
        ]);
      }
      return items;
    },
  );

  r.post(
    "/v1/advisory/batch",
    {
      config: { role: "caller" },
      schema: {
        summary: "Decide several requests; results in the same order, each a decision or its own error",
        headers: DeadlineHeaderSchema,
        body: batchBody,
        response: { 200: BatchAnswerSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      refuseWhenClosing(ctx);
      const deadlineMs = requestDeadline(request, ctx);
      const items = request.body as unknown as unknown[];
      const results = await Promise.all(
        items.map(async (item, i) => {
          try {
            const input = parseAdvisoryBody(item, `requests[${i}]`);
            return await ctx.service.decide(input, {
              log: request.log,
              signal: ctx.shutdown.signal,
              ...(deadlineMs !== undefined ? { deadlineMs } : {}),
              ...(request.traceContext ? { traceContext: request.traceContext } : {}),
            });
          } catch (err) {
            if (
              !(
                err instanceof InvalidRequestError ||
                err instanceof QueueFullError ||
                err instanceof HttpError
              )
            ) {
              request.log.error({ err }, "batch item failed");
            }
            return { error: toErrorBody(err) };
          }
        }),
      );
      return { results };
    },
  );

  r.post(
    "/v1/jobs",
    {
      config: { role: "caller" },
      schema: {
        summary: "Queue one request; poll GET /v1/jobs/:id for the decision",
        headers: DeadlineHeaderSchema,
        body: advisoryBody,
        response: { 202: JobAcceptedSchema, 400: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      refuseWhenClosing(ctx);
      const deadlineMs = jobDeadline(request, ctx);
      // The job's id is its decision's id: a UUIDv7 like every decision id (INTERFACES.md).
      const jobId = newDecisionId();
      const input = request.body as unknown as AdvisoryInput;
      await ctx.jobStore.submit({
        jobId,
        parsed: input.parsed,
        ...(input.control !== undefined ? { control: input.control } : {}),
        caller: callerOf(request),
        ...(deadlineMs !== undefined ? { deadlineMs } : {}),
        log: request.log.child({ jobId }),
        ...(request.traceContext ? { traceContext: request.traceContext } : {}),
      });
      reply.code(202).header("Location", `/v1/jobs/${jobId}`);
      return { jobId, status: "pending" as const, location: `/v1/jobs/${jobId}` };
    },
  );

  r.get(
    "/v1/jobs/:id",
    {
      config: { role: "caller" },
      schema: {
        summary: "A queued request: pending, or done with the decision, or failed with the error",
        params: JobParamsSchema,
        response: { 200: JobViewSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const job = await ctx.jobStore.get(request.params.id);
      if (!job) throw new HttpError("not_found", `no job ${request.params.id} (unknown or expired)`);
      return job;
    },
  );
}
