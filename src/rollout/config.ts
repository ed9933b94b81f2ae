import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { capMode } from "../advisor/modes.js";
import { MODE_RANK, type Mode, ModeSchema } from "../schemas/common.js";
import { type Tier, TierSchema } from "../schemas/decision.js";
import { CodedError } from "../schemas/error-codes.js";
import { issuesFromZod } from "../schemas/errors.js";
import { parseDuration } from "./duration.js";

export const TIERS: readonly Tier[] = TierSchema.options;

/** A rollout file that cannot be used: names the file and each bad setting. */
export class RolloutConfigError extends CodedError<"invalid_rollout_config"> {
  constructor(message: string) {
    super("invalid_rollout_config", message);
    this.name = "RolloutConfigError";
  }
}

const rate = z
  .number()
  .min(0, { error: "expected a rate between 0 and 1" })
  .max(1, { error: "expected a rate between 0 and 1" });
const count = z.number().int({ error: "expected a whole number" }).min(0);
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

/** Promotion gates, defaults from the reference's rollout plan. */
const GatesSchema = z.strictObject({
  /** Decisions with a control (or a review) needed before agreement counts. */
  minSample: count.default(100),
  /** Shadow -> advisory: agreement with the caller's engine above this. */
  advisoryAgreement: rate.default(0.8),
  /** Advisory -> enforce: agreement above this. */
  enforceAgreement: rate.default(0.9),
  /** Reviews needed before the override rate counts. */
  minReviews: count.default(30),
  /** Advisory -> enforce: reviewers overrode fewer than this share... */
  maxOverrideRate: rate.default(0.1),
  /** ...and fewer than this for reads, where mistakes are cheap and so must be rare. */
  maxOverrideRateRead: rate.default(0.05),
  /** Wrong allows on high-risk actions found by review: the reference allows none. */
  maxWrongAllowsHighRisk: count.default(0),
  /** Only evidence this recent counts (and only since the tier entered its current mode). */
  window: duration.default(30 * 86_400_000),
});

/** Automatic rollback to shadow, checked per tier in advisory or enforce. */
const RollbackSchema = z.strictObject({
  enabled: z.boolean().default(true),
  maxErrorRate: rate.default(0.01),
  /** p95 decision latency budget in milliseconds. */
  latencyBudgetMs: z.number().positive().default(2_000),
  /** Largest change in the share of any decision value against the baseline window. */
  maxDistributionShift: rate.default(0.2),
  /** The recent window the checks look at. */
  window: duration.default(3_600_000),
  /** The baseline: this long before the tier entered its current mode. */
  baselineWindow: duration.default(7 * 86_400_000),
  /** Fewer decisions than this in a window: no rate-based rollback (too little evidence). */
  minSample: count.default(50),
  /** How often a running service checks. */
  interval: duration.default(30_000),
});

const VersionSpecSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .regex(/^[\w.@:+-]+$/, { error: "expected a name of letters, digits and . _ - @ : +" }),
  prompt: z.string().min(1).nullable().optional(),
  model: z.string().min(1).nullable().optional(),
});

export const RolloutConfigSchema = z.strictObject({
  /**
   * Mode of every tier not listed in `tiers`. Unset, such a tier keeps the mode the decision log has
   * (shadow on a new log): a start-up that says nothing about a tier must not change it.
   */
  defaultMode: ModeSchema.optional(),
  tiers: z.partialRecord(TierSchema, ModeSchema).default({}),
  /** Share of shadow-mode requests for which advice is computed and logged. */
  shadowSampleRate: rate.default(1),
  /** Input paths masked before storage (see docs/rollout.md). */
  mask: z.array(z.string().min(1)).default([]),
  gates: GatesSchema.default(GatesSchema.parse({})),
  rollback: RollbackSchema.default(RollbackSchema.parse({})),
  /**
   * Prompt/model versions: the one to serve when no promotion is recorded, and a candidate to run in
   * shadow beside it (A/B on the same requests) until it is promoted.
   */
  versions: z
    .strictObject({ current: VersionSpecSchema.optional(), candidate: VersionSpecSchema.optional() })
    .default({}),
});
export type RolloutConfig = z.infer<typeof RolloutConfigSchema>;
export type GatesConfig = RolloutConfig["gates"];
export type RollbackConfig = RolloutConfig["rollback"];

export const DEFAULT_ROLLOUT: RolloutConfig = RolloutConfigSchema.parse({});

export function parseRolloutConfig(raw: unknown, source = "rollout config"): RolloutConfig {
  const r = RolloutConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const lines = issuesFromZod(r.error).map((i) => `  ${i.path || "(root)"}: ${i.message}`);
    throw new RolloutConfigError(`${source} is invalid:\n${lines.join("\n")}`);
  }
  return r.data;
}

/** Reads a rollout file (YAML, or JSON when it ends in .json). */
export function loadRolloutConfig(path: string): RolloutConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new RolloutConfigError(
      `cannot read rollout file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  try {
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RolloutConfigError(
      `rollout file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  return parseRolloutConfig(raw, `rollout file ${path}`);
}

export const modeRank = (m: Mode): number => MODE_RANK[m];

/** Admin actions are never enforced without a human: the one admin cap (src/advisor/modes.ts). */
export const capForTier = capMode;

/**
 * The mode the configuration states for a tier: --mode (override) > the tier's entry > defaultMode, then
 * capped; undefined when it states none (the tier then keeps the mode the log has).
 */
export function statedMode(config: RolloutConfig, tier: Tier, override?: Mode): Mode | undefined {
  const mode = override ?? config.tiers[tier] ?? config.defaultMode;
  return mode === undefined ? undefined : capForTier(tier, mode);
}

/** The mode the configuration gives a tier: what it states, else shadow. */
export function configuredMode(config: RolloutConfig, tier: Tier, override?: Mode): Mode {
  return statedMode(config, tier, override) ?? "shadow";
}

/** The mode a tier is promoted to next, or null at the top (admin tops out at advisory). */
export function nextMode(tier: Tier, mode: Mode): Mode | null {
  const next: Mode | null = mode === "shadow" ? "advisory" : mode === "advisory" ? "enforce" : null;
  if (next === null) return null;
  return capForTier(tier, next) === next ? next : null;
}
