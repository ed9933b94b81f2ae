import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Rollout } from "../../rollout/controller.js";
import { parseTimeArg } from "../../rollout/duration.js";
import { DecisionValueSchema, ModeSchema } from "../../schemas/common.js";
import { TierSchema } from "../../schemas/decision.js";
import { InvalidRequestError } from "../../schemas/errors.js";
import {
  type DecisionQuery,
  DecisionRecordSchema,
  type Review,
  ReviewCategorySchema,
} from "../../schemas/records.js";
import type { DecisionLog } from "../../store/types.js";
import { HttpError } from "../errors.js";
import { auditIdentity } from "../plugins/auth.js";
import { ErrorSchema, refusedIdentityField } from "../schemas.js";

export interface StoreRouteOptions {
  store: DecisionLog;
  /** When given, a review that finds a wrong allow on a high-risk action rolls its tier back at once. */
  rollout?: Rollout;
}

const bool = z.enum(["true", "false"]);
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const DecisionListQuerySchema = z.strictObject({
  tier: TierSchema.optional(),
  action: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  decision: DecisionValueSchema.optional(),
  mode: ModeSchema.optional(),
  since: z.string().optional().describe("ISO 8601 date-time, or a duration back from now such as 24h or 7d"),
  until: z.string().optional().describe("ISO 8601 date-time, or a duration back from now"),
  mismatches: bool.optional().describe("true: only decisions whose control differs from the advice"),
  reviewed: bool.optional(),
  q: z.string().max(200).optional().describe("free-text search over the logged request and decision"),
  order: z.enum(["asc", "desc"]).default("desc").describe("by time: desc newest first (default), asc oldest"),
  limit: limit(1000, 50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const QueueQuerySchema = z.strictObject({
  tier: TierSchema.optional(),
  action: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  decision: DecisionValueSchema.optional(),
  order: z.enum(["asc", "desc"]).default("desc").describe("by time: desc newest first (default), asc oldest"),
  limit: limit(1000, 50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const ReviewBodySchema = z.strictObject({
  finalDecision: DecisionValueSchema,
  category: ReviewCategorySchema,
  notes: z.string().max(10_000).optional(),
  reviewer: refusedIdentityField("reviewer"),
});

const ListSchema = z.object({ items: z.array(DecisionRecordSchema), total: z.number() });

/** The reviewed record, plus what the review caused: the tier rolled back (a wrong allow at high risk). */
const ReviewedSchema = DecisionRecordSchema.extend({
  rollback: z
    .object({
      tier: TierSchema,
      from: ModeSchema,
      to: ModeSchema,
      reason: z.string(),
      at: z.string(),
    })
    .optional()
    .describe("present when this review rolled its tier back at once"),
});
const IdParams = z.strictObject({ id: z.string().min(1) });

/** since/until as ISO or a duration; a bad one is a 400 naming the parameter. */
export function timeParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  try {
    return parseTimeArg(value, name);
  } catch (err) {
    throw new InvalidRequestError([{ path: name, message: (err as Error).message.replace(`${name}: `, "") }]);
  }
}

/**
 * The decision log and human review over HTTP: GET /v1/decisions, GET /v1/decisions/:id,
 * GET /v1/reviews/queue, POST /v1/decisions/:id/review. Registered by the server (which applies auth).
 */
export async function reviewRoutes(app: FastifyInstance, opts: StoreRouteOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { store } = opts;

  r.get(
    "/v1/decisions",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Search the decision log, newest first",
        tags: ["review"],
        querystring: DecisionListQuerySchema,
        response: { 200: ListSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const qs = request.query;
      const since = timeParam(qs.since, "since");
      const until = timeParam(qs.until, "until");
      const q: DecisionQuery = {
        ...(qs.tier ? { tier: qs.tier } : {}),
        ...(qs.action ? { action: qs.action } : {}),
        ...(qs.actor ? { actor: qs.actor } : {}),
        ...(qs.decision ? { decision: qs.decision } : {}),
        ...(qs.mode ? { mode: qs.mode } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(qs.mismatches === "true" ? { mismatchesOnly: true } : {}),
        ...(qs.reviewed ? { reviewed: qs.reviewed === "true" } : {}),
        ...(qs.q ? { q: qs.q } : {}),
      };
      const [items, total] = await Promise.all([
        store.query({ ...q, order: qs.order, limit: qs.limit, offset: qs.offset }),
        store.count(q),
      ]);
      return { items, total };
    },
  );

  r.get(
    "/v1/decisions/:id",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "One logged decision",
        tags: ["review"],
        params: IdParams,
        response: { 200: DecisionRecordSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const rec = await store.get(request.params.id);
      if (!rec)
        throw new HttpError("not_found", `no decision with id "${request.params.id}" in the decision log`);
      return rec;
    },
  );

  r.get(
    "/v1/reviews/queue",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Advisory-mode decisions without a review, newest first (paged: limit, offset)",
        tags: ["review"],
        querystring: QueueQuerySchema,
        response: { 200: ListSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const qs = request.query;
      const q: DecisionQuery = {
        mode: "advisory",
        reviewed: false,
        ...(qs.tier ? { tier: qs.tier } : {}),
        ...(qs.action ? { action: qs.action } : {}),
        ...(qs.actor ? { actor: qs.actor } : {}),
        ...(qs.decision ? { decision: qs.decision } : {}),
      };
      const [items, total] = await Promise.all([
        store.query({ ...q, order: qs.order, limit: qs.limit, offset: qs.offset }),
        store.count(q),
      ]);
      return { items, total };
    },
  );

  r.post(
    "/v1/decisions/:id/review",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Record a reviewer's final decision on a logged decision",
        description:
          "A review finding that the advice allowed a high- or critical-risk action the reviewer would not rolls that tier back to shadow at once.",
        tags: ["review"],
        params: IdParams,
        body: ReviewBodySchema,
        response: { 200: ReviewedSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const body = request.body;
      const current = await store.get(request.params.id);
      if (!current)
        throw new HttpError("not_found", `no decision with id "${request.params.id}" in the decision log`);
      if (body.category === "agree" && body.finalDecision !== current.decision.decision) {
        throw new InvalidRequestError([
          {
            path: "category",
            message: `"agree" but finalDecision ${body.finalDecision} differs from the advice ${current.decision.decision}; choose too_strict, too_permissive or unclear`,
          },
        ]);
      }
      const review: Review = {
        reviewer: auditIdentity(request),
        finalDecision: body.finalDecision,
        category: body.category,
        ...(body.notes !== undefined ? { notes: body.notes } : {}),
        reviewedAt: new Date().toISOString(),
      };
      const updated = await store.review(request.params.id, review);
      if (!updated)
        throw new HttpError("not_found", `no decision with id "${request.params.id}" in the decision log`);
      if (opts.rollout) {
        const fired = await opts.rollout.onReview(updated);
        if (fired) {
          request.log.warn({ tier: updated.tier, reason: fired.reason }, "review triggered a rollback");
          // The reviewer is told what the review did, not only that it was saved.
          if (fired.from !== null)
            return {
              ...updated,
              rollback: {
                tier: updated.tier,
                from: fired.from,
                to: fired.to,
                reason: fired.reason,
                at: fired.at,
              },
            };
        }
      }
      return updated;
    },
  );
}

/** The form buildApp's `plugins` list takes. */
export const reviewRoutesFor =
  (opts: StoreRouteOptions) =>
  (app: FastifyInstance): Promise<void> =>
    reviewRoutes(app, opts);
