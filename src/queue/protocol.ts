import { z } from "zod";
import { DecisionValueSchema, ModeSchema } from "../schemas/common.js";
import { DecisionSchema, TierSchema } from "../schemas/decision.js";

/**
 * What sidecars and workers exchange through the queue. Both sides validate what they read: Redis is
 * shared, and a record written by another version (or anything else) must fail loudly, not be trusted.
 */

/** A synchronous caller's interpreter call: request and reply, the sidecar logs the decision. */
export const ADVISE = "advise";
/** An async job (POST /v1/jobs): the worker decides it and logs it; any sidecar reads its state. */
export const DECIDE = "decide";

export const EngineSchema = z.enum(["rules", "llm", "hybrid"]);

const JobBase = z.object({
  /** The request as the caller sent it (validated again by the worker). */
  input: z.unknown(),
  /** The sidecar's engine: the worker routes the request as that sidecar would. */
  engine: EngineSchema,
  /** The sidecar's policy revision, to spot sidecars and workers that run different policies. */
  policy: z.string(),
  /** When the caller stops waiting (epoch ms), or null for none: past it the job is not run. */
  deadlineAt: z.number().nullable(),
});

export const AdviseJobSchema = JobBase.extend({ decisionId: z.string().min(1) });
export type AdviseJob = z.infer<typeof AdviseJobSchema>;

export const DecideJobSchema = JobBase.extend({
  /** The caller's own decision (shadow mode), when sent. */
  control: DecisionValueSchema.optional(),
  /** The tier and mode the accepting sidecar resolved when it accepted the job. */
  tier: TierSchema,
  mode: ModeSchema,
  /** Who submitted it (a digest: a token's name or an address), for the per-caller limit. */
  caller: z.string(),
  /** Set once the decision is logged: the request is then dropped from Redis (the log has it, masked). */
  logged: z.boolean().optional(),
});
export type DecideJob = z.infer<typeof DecideJobSchema>;

/** What /v1/advisory answers: the decision plus the mode and the decision the caller applies. */
export const QueuedAnswerSchema = DecisionSchema.extend({
  mode: ModeSchema,
  effectiveDecision: DecisionValueSchema,
  deferred: z.boolean().optional(),
});
export type QueuedAnswer = z.infer<typeof QueuedAnswerSchema>;

export const AdviseResultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("decision"), decision: DecisionSchema, waitMs: z.number() }),
  /** The caller's deadline had passed when a worker took the job: not run (the caller was answered). */
  z.object({ kind: z.literal("expired"), waitMs: z.number() }),
]);
export type AdviseResult = z.infer<typeof AdviseResultSchema>;

export const DecideResultSchema = z.object({ answer: QueuedAnswerSchema, waitMs: z.number() });
export type DecideResult = z.infer<typeof DecideResultSchema>;

/**
 * A failed job's reason as the worker writes it, "code: message", so that GET /v1/jobs/:id can answer
 * the error in the contract's shape. A reason without a code (BullMQ's own, e.g. a stalled job that ran
 * out of attempts) becomes `job_failed`.
 */
export function failedReason(code: string, message: string): string {
  return `${code}: ${message}`;
}

export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const m = /^([a-z][a-z_]{0,40}): /.exec(reason ?? "");
  if (m?.[1]) return { code: m[1], message: (reason ?? "").slice(m[0].length) };
  return { code: "job_failed", message: reason || "the job failed" };
}
