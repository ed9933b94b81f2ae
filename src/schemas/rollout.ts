import { z } from "zod";
import { ModeSchema } from "./common.js";
import { TierSchema } from "./decision.js";

/**
 * The rollout's vocabulary: the events the decision log keeps, the measures the rollout is steered by and
 * the status the routes send (also the OpenAPI document's description of them).
 */

/** A rollout state change, persisted so every sidecar sharing the log sees the same modes. */
export const RolloutEventSchema = z.object({
  id: z.number().optional(),
  at: z.string(),
  tier: TierSchema,
  /** config: the rollout file set the mode; promote: a human moved it up; rollback: a human or the monitor moved it down. */
  kind: z.enum(["config", "promote", "rollback"]),
  from: ModeSchema.nullable(),
  to: ModeSchema,
  by: z.string(),
  reason: z.string(),
  /** Automatic rollbacks: which check fired. */
  trigger: z.string().optional(),
});
export type RolloutEvent = z.infer<typeof RolloutEventSchema>;

/** A prompt/model configuration the service can run: named, so that comparisons and rollbacks refer to it. */
export const VersionSpecSchema = z.object({
  name: z.string(),
  /** Prompt variant id (or file). */
  prompt: z.string().nullable().optional(),
  /** GGUF path, or the model name at an OpenAI-compatible server. */
  model: z.string().nullable().optional(),
});
export type VersionSpec = z.infer<typeof VersionSpecSchema>;

/** A change of the live prompt/model version: promotion of a candidate, or rollback to the previous one. */
export const VersionEventSchema = z.object({
  id: z.number().optional(),
  at: z.string(),
  kind: z.enum(["promote", "rollback"]),
  from: VersionSpecSchema.nullable(),
  to: VersionSpecSchema,
  by: z.string(),
  reason: z.string(),
});
export type VersionEvent = z.infer<typeof VersionEventSchema>;

const rate = z.number().nullable();

/** The numbers the rollout is steered by, over any set of logged decisions. */
export const MeasuresSchema = z.object({
  decisions: z.number(),
  /** Shadow: share of decisions with a control where the advice equals it. Null with no control. */
  agreementRate: rate,
  /** Reviewed decisions whose final decision differs from the advice. Null with no review. */
  overrideRate: rate,
  /** Share answered by the fail-closed fallback (the advisor could not decide itself). Null with no decision. */
  errorRate: rate,
  /** Reviews that found the advice allowed a high- or critical-risk action the reviewer did not. */
  wrongAllowsHighRisk: z.number(),
  distribution: z.object({ allow: z.number(), deny: z.number(), require_attestation: z.number() }),
  /** Decision latency percentiles in ms (0 with no decision). */
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }),
  /** Sample sizes behind the rates, so a gate can ask for enough evidence. */
  samples: z.object({ withControl: z.number(), reviewed: z.number() }),
});
export type Measures = z.infer<typeof MeasuresSchema>;

/** The measures of one hour or day. */
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
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;

export const StatsSchema = z.object({
  overall: MeasuresSchema,
  perTier: z.record(z.string(), MeasuresSchema),
  perVersion: z.record(z.string(), MeasuresSchema),
  series: z.array(SeriesPointSchema),
});

/** One promotion gate and whether it passed, with the numbers behind it. */
export const GateSchema = z.object({ name: z.string(), passed: z.boolean(), detail: z.string() });
export type Gate = z.infer<typeof GateSchema>;

export const RollbackEntrySchema = z.object({
  at: z.string(),
  reason: z.string(),
  from: ModeSchema.nullable(),
  to: ModeSchema,
  by: z.string(),
  trigger: z.string(),
});
export type RollbackEntry = z.infer<typeof RollbackEntrySchema>;

export const TierStatusSchema = z.object({
  tier: TierSchema,
  mode: ModeSchema,
  /** What the configuration last recorded in the log says; differs from `mode` after a promotion or rollback. */
  configuredMode: ModeSchema,
  /** When the tier entered its current mode (null: never changed in this log). */
  since: z.string().nullable(),
  /** Where the measures' (and gates') sample begins: the later of `since` and the gate window's start. */
  measuresSince: z.string(),
  measures: MeasuresSchema,
  gates: z.array(GateSchema),
  mayPromote: z.boolean(),
  nextMode: ModeSchema.nullable(),
  /** Newest first. */
  rollbacks: z.array(RollbackEntrySchema),
  promotions: z.array(
    z.object({
      at: z.string(),
      by: z.string(),
      note: z.string(),
      from: ModeSchema.nullable(),
      to: ModeSchema,
    }),
  ),
});
export type TierStatus = z.infer<typeof TierStatusSchema>;
