import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Rollout } from "../../rollout/controller.js";
import { RolloutError } from "../../rollout/errors.js";
import { TierStatusSchema } from "../../rollout/schemas.js";
import { InvalidRequestError } from "../../schemas/errors.js";
import { ModeValueSchema } from "../../store/record-schema.js";
import { HttpError } from "../errors.js";
import { ErrorSchema } from "../schemas.js";

export interface RolloutRouteOptions {
  rollout: Rollout;
}

const TierParams = z.strictObject({ tier: z.string().min(1) });
export const PromoteBodySchema = z.strictObject({
  by: z.string().min(1).max(200).optional().describe("who decided (default: the reviewer token's name)"),
  note: z.string().min(1, { error: "say why (a note is recorded with the promotion)" }).max(10_000),
  force: z.boolean().optional().describe("promote although a gate fails (the failing gates are recorded)"),
});
export const RollbackBodySchema = z.strictObject({
  reason: z.string().min(1, { error: "say why (the reason is recorded with the rollback)" }).max(10_000),
  to: ModeValueSchema.optional().describe("default shadow"),
  by: z.string().min(1).max(200).optional(),
});

function principalName(request: FastifyRequest): string | undefined {
  const p = (request as { principal?: { name?: unknown } }).principal;
  return typeof p?.name === "string" ? p.name : undefined;
}

async function asHttp<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RolloutError) throw new HttpError(err.statusCode, err.code, err.message);
    throw err;
  }
}

/** GET /v1/rollout, POST /v1/rollout/:tier/promote, POST /v1/rollout/:tier/rollback. */
export async function rolloutRoutes(app: FastifyInstance, opts: RolloutRouteOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { rollout } = opts;

  r.get(
    "/v1/rollout",
    {
      schema: {
        summary: "Each tier's mode, measures, gates, whether it may be promoted, and its rollbacks",
        tags: ["rollout"],
        response: { 200: z.object({ tiers: z.array(TierStatusSchema) }) },
      },
    },
    async () => ({ tiers: await rollout.status() }),
  );

  r.post(
    "/v1/rollout/:tier/promote",
    {
      schema: {
        summary: "Promote a tier one mode up (a human decision, recorded with who and why)",
        description:
          "409 while a gate fails (unless force), or when the tier is at its top mode (admin: advisory).",
        tags: ["rollout"],
        params: TierParams,
        body: PromoteBodySchema,
        response: { 200: TierStatusSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      const by = principalName(request) ?? request.body.by;
      if (!by)
        throw new InvalidRequestError([{ path: "by", message: "required: who decides this promotion" }]);
      return asHttp(() =>
        rollout.promote(request.params.tier, by, request.body.note, request.body.force ?? false),
      );
    },
  );

  r.post(
    "/v1/rollout/:tier/rollback",
    {
      schema: {
        summary: "Roll a tier back (to shadow unless `to` says otherwise)",
        tags: ["rollout"],
        params: TierParams,
        body: RollbackBodySchema,
        response: { 200: TierStatusSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      const body = request.body;
      const by = principalName(request) ?? body.by ?? "operator";
      return asHttp(() =>
        rollout.rollback(request.params.tier, body.reason, { by, ...(body.to ? { to: body.to } : {}) }),
      );
    },
  );
}

export const rolloutRoutesFor =
  (opts: RolloutRouteOptions) =>
  (app: FastifyInstance): Promise<void> =>
    rolloutRoutes(app, opts);
