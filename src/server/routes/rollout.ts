import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Rollout } from "../../rollout/controller.js";
import { promoteVersion, rollbackVersion, type VersionStore, versionStatus } from "../../rollout/versions.js";
import { ModeSchema } from "../../schemas/common.js";
import {
  GateSchema,
  TierStatusSchema,
  VersionEventSchema,
  VersionSpecSchema,
} from "../../schemas/rollout.js";
import { auditIdentity } from "../plugins/auth.js";
import { ErrorSchema, refusedIdentityField } from "../schemas.js";

export interface RolloutRouteOptions {
  rollout: Rollout;
  /** Where the prompt/model versions' events and the candidate's decisions are kept. */
  store: VersionStore;
}

const TierParams = z.strictObject({ tier: z.string().min(1) });
export const PromoteBodySchema = z.strictObject({
  by: refusedIdentityField("by"),
  note: z.string().min(1, { error: "say why (a note is recorded with the promotion)" }).max(10_000),
  force: z.boolean().optional().describe("promote although a gate fails (the failing gates are recorded)"),
});
export const RollbackBodySchema = z.strictObject({
  reason: z.string().min(1, { error: "say why (the reason is recorded with the rollback)" }).max(10_000),
  to: ModeSchema.optional().describe("default shadow"),
  by: refusedIdentityField("by"),
});

export const VersionStatusSchema = z.object({
  active: VersionSpecSchema.nullable(),
  previous: VersionSpecSchema.nullable(),
  candidate: VersionSpecSchema.nullable(),
  comparison: z
    .object({
      candidate: z.string(),
      compared: z.number(),
      agreementWithCurrent: z.number().nullable(),
      reviewed: z.number(),
      candidateAgreementWithReviews: z.number().nullable(),
      currentAgreementWithReviews: z.number().nullable(),
      candidateWrongAllowsHighRisk: z.number(),
      changed: z.array(
        z.object({
          decisionId: z.string(),
          current: z.string(),
          candidate: z.string(),
          reviewed: z.string().optional(),
        }),
      ),
    })
    .nullable(),
  gates: z.array(GateSchema),
  mayPromote: z.boolean(),
  // Without the event's id: the route never sent it.
  history: z.array(VersionEventSchema.omit({ id: true })),
});
const VersionPromoteBodySchema = PromoteBodySchema;
const VersionRollbackBodySchema = z.strictObject({
  reason: z.string().min(1, { error: "say why (the reason is recorded with the rollback)" }).max(10_000),
  by: refusedIdentityField("by"),
});

/**
 * GET /v1/rollout, POST /v1/rollout/:tier/promote, POST /v1/rollout/:tier/rollback, and the prompt/model
 * version: GET /v1/rollout/versions, POST /v1/rollout/versions/promote, POST /v1/rollout/versions/rollback.
 */
export async function rolloutRoutes(app: FastifyInstance, opts: RolloutRouteOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { rollout, store } = opts;

  r.get(
    "/v1/rollout",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Each tier's mode, measures, gates, whether it may be promoted, and its rollbacks",
        tags: ["rollout"],
        response: { 200: z.object({ tiers: z.array(TierStatusSchema) }) },
      },
    },
    async () => ({ tiers: await rollout.status() }),
  );

  r.get(
    "/v1/rollout/versions",
    {
      config: { role: "reviewer" },
      schema: {
        summary:
          "The live prompt/model version, the previous one, the candidate and its comparison and gates",
        tags: ["rollout"],
        response: { 200: VersionStatusSchema },
      },
    },
    async () => versionStatus(store, rollout.settings),
  );

  r.post(
    "/v1/rollout/versions/promote",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Make the candidate version live (409 while a gate fails, unless force)",
        tags: ["rollout"],
        body: VersionPromoteBodySchema,
        response: { 200: VersionStatusSchema, 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      const by = auditIdentity(request);
      return promoteVersion(store, rollout.settings, by, request.body.note, request.body.force ?? false);
    },
  );

  r.post(
    "/v1/rollout/versions/rollback",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Return to the previous prompt/model version",
        tags: ["rollout"],
        body: VersionRollbackBodySchema,
        response: { 200: VersionStatusSchema, 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      const by = auditIdentity(request);
      return rollbackVersion(store, rollout.settings, by, request.body.reason);
    },
  );

  r.post(
    "/v1/rollout/:tier/promote",
    {
      config: { role: "reviewer" },
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
      const by = auditIdentity(request);
      return rollout.promote(request.params.tier, by, request.body.note, request.body.force ?? false);
    },
  );

  r.post(
    "/v1/rollout/:tier/rollback",
    {
      config: { role: "reviewer" },
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
      const by = auditIdentity(request);
      return rollout.rollback(request.params.tier, body.reason, { by, ...(body.to ? { to: body.to } : {}) });
    },
  );
}

export const rolloutRoutesFor =
  (opts: RolloutRouteOptions) =>
  (app: FastifyInstance): Promise<void> =>
    rolloutRoutes(app, opts);
