import { z } from "zod";
import { TierSchema } from "../schemas/decision.js";
import { ModeValueSchema } from "../store/record-schema.js";

/** zod descriptions of measures and rollout status, for the OpenAPI document. */
const rate = z.number().nullable();

export const MeasuresSchema = z.object({
  decisions: z.number(),
  agreementRate: rate,
  overrideRate: rate,
  errorRate: rate,
  wrongAllowsHighRisk: z.number(),
  distribution: z.object({ allow: z.number(), deny: z.number(), require_attestation: z.number() }),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }),
  samples: z.object({ withControl: z.number(), reviewed: z.number() }),
});

export const SeriesPointSchema = z.object({
  t: z.string(),
  decisions: z.number(),
  allow: z.number(),
  deny: z.number(),
  require_attestation: z.number(),
  agreementRate: rate,
  overrideRate: rate,
  errorRate: rate,
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
});

export const StatsSchema = z.object({
  overall: MeasuresSchema,
  perTier: z.record(z.string(), MeasuresSchema),
  perVersion: z.record(z.string(), MeasuresSchema),
  series: z.array(SeriesPointSchema),
});

export const GateSchema = z.object({ name: z.string(), passed: z.boolean(), detail: z.string() });

export const TierStatusSchema = z.object({
  tier: TierSchema,
  mode: ModeValueSchema,
  configuredMode: ModeValueSchema,
  since: z.string().nullable(),
  measuresSince: z.string(),
  measures: MeasuresSchema,
  gates: z.array(GateSchema),
  mayPromote: z.boolean(),
  nextMode: ModeValueSchema.nullable(),
  rollbacks: z.array(
    z.object({
      at: z.string(),
      reason: z.string(),
      from: ModeValueSchema.nullable(),
      to: ModeValueSchema,
      by: z.string(),
      trigger: z.string(),
    }),
  ),
  promotions: z.array(
    z.object({
      at: z.string(),
      by: z.string(),
      note: z.string(),
      from: ModeValueSchema.nullable(),
      to: ModeValueSchema,
    }),
  ),
});
