import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { computeStats } from "../../rollout/stats.js";
import { TierSchema } from "../../schemas/decision.js";
import { StatsSchema } from "../../schemas/rollout.js";
import { ErrorSchema } from "../schemas.js";
import { type StoreRouteOptions, timeParam } from "./review.js";

export const StatsQuerySchema = z.strictObject({
  since: z.string().optional().describe("ISO 8601 date-time, or a duration back from now such as 24h or 7d"),
  until: z.string().optional(),
  tier: TierSchema.optional(),
  bucket: z.enum(["hour", "day"]).optional().describe("series bucket; default hour up to two days, else day"),
});

/** GET /v1/stats: measures overall, per tier, per version and per hour or day. */
export async function statsRoutes(
  app: FastifyInstance,
  opts: Pick<StoreRouteOptions, "store">,
): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/v1/stats",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Agreement, overrides, errors, distribution and latency from the decision log",
        tags: ["rollout"],
        querystring: StatsQuerySchema,
        response: { 200: StatsSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const qs = request.query;
      const since = timeParam(qs.since, "since");
      const until = timeParam(qs.until, "until");
      return computeStats(opts.store, {
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(qs.tier ? { tier: qs.tier } : {}),
        ...(qs.bucket ? { bucket: qs.bucket } : {}),
      });
    },
  );
}

export const statsRoutesFor =
  (opts: Pick<StoreRouteOptions, "store">) =>
  (app: FastifyInstance): Promise<void> =>
    statsRoutes(app, opts);
