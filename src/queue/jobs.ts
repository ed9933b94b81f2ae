import { Job } from "bullmq";
import type { DecisionValue, Mode } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import { issuesFromZod } from "../schemas/errors.js";
import type { ParsedRequest } from "../schemas/request.js";
import { backoffMs } from "../util/backoff.js";
import {
  DECIDE,
  type DecideJob,
  DecideResultSchema,
  parseFailedReason,
  type QueuedAnswer,
} from "./protocol.js";
import { type SharedQueue, SharedQueueError } from "./shared-queue.js";

/** An error as a failed job carries it: the same shape as an error answer. */
export interface JobError {
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
}

/** What GET /v1/jobs/:id answers. */
export type JobView =
  | { jobId: string; status: "pending"; createdAt: string }
  | { jobId: string; status: "done"; createdAt: string; completedAt: string; result: QueuedAnswer }
  | { jobId: string; status: "failed"; createdAt: string; completedAt: string; error: JobError };

/** One async job as POST /v1/jobs accepts it. */
export interface JobSubmission {
  /** The job's id, which is its decision's id. */
  jobId: string;
  parsed: ParsedRequest;
  control?: DecisionValue;
  /** Who submitted it (a digest), for per-caller limits. */
  caller: string;
  /** Milliseconds from acceptance after which the job is answered by the fail-closed fallback, not run. */
  deadlineMs?: number;
}

/**
 * Where async jobs live between POST /v1/jobs and GET /v1/jobs/:id: the in-process table of one sidecar
 * (server/jobs.ts, lost with it) or the shared queue (every sidecar sees every job, and a job outlives the
 * process that accepted it).
 */
export interface JobStore<S extends JobSubmission = JobSubmission> {
  /** True when an accepted job survives the process that accepted it. */
  readonly durable: boolean;
  /** Resolves once the job is held (durably, for a durable store); throws when it cannot take it. */
  submit(job: S): Promise<void>;
  get(jobId: string): Promise<JobView | undefined>;
  counts(): Promise<{ pending: number; finished: number }>;
}

/** What the accepting sidecar decides about a job before it is queued: its tier and mode, and how to route it. */
export interface JobClassification {
  tier: Tier;
  mode: Mode;
  engine: "rules" | "llm" | "hybrid";
  /** The policy revision the sidecar runs. */
  policy: string;
}

/** A failed attempt (e.g. the decision log down) is retried this many times in all, with the one backoff. */
export const JOB_ATTEMPTS = 5;
export const BACKOFF_TYPE = "policy-advisor";
/** The one backoff (src/util/backoff.ts) as BullMQ's custom backoff strategy for failed attempts. */
export const jobBackoff = (attemptsMade: number): number => backoffMs(attemptsMade, 1000, 30_000);

/**
 * Async jobs on the shared queue (BullMQ): accepted once Redis holds them, decided and logged by a worker
 * (exactly once: the job id is the decision id), read by any sidecar.
 */
export class SharedJobStore implements JobStore {
  readonly durable = true;

  constructor(
    private readonly shared: SharedQueue,
    private readonly classify: (parsed: ParsedRequest) => JobClassification,
    private readonly jobTtlSeconds: number,
  ) {}

  async submit(job: JobSubmission): Promise<void> {
    const c = this.classify(job.parsed);
    await this.shared.admit();
    const share = await this.shared.reserveSlot(job.caller, job.jobId);
    const data: DecideJob = {
      input: job.parsed.original,
      engine: c.engine,
      policy: c.policy,
      deadlineAt: job.deadlineMs === undefined ? null : Date.now() + job.deadlineMs,
      tier: c.tier,
      mode: c.mode,
      caller: job.caller,
      ...(job.control !== undefined ? { control: job.control } : {}),
    };
    try {
      await this.shared.queue.add(DECIDE, data, {
        jobId: job.jobId,
        // Fair share: a caller's n-th waiting job goes after every other caller's first n-1. Synchronous
        // callers' calls (no priority) go before any job: they wait with a deadline.
        priority: Math.min(share, 2_000_000),
        attempts: JOB_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete: { age: this.jobTtlSeconds },
        removeOnFail: { age: this.jobTtlSeconds },
      });
    } catch (err) {
      await this.shared.releaseSlot(job.caller, job.jobId);
      throw new SharedQueueError(
        "queue_unavailable",
        `the shared queue ${this.shared.target.display} did not take the job: ${(err as Error).message}`,
        5,
      );
    }
  }

  async get(jobId: string): Promise<JobView | undefined> {
    let job: Job | undefined;
    let state: string;
    try {
      // The state first, then the job: read the other way round, a job finishing in between would be
      // "completed" without the result the earlier read could not have.
      state = await this.shared.queue.getJobState(jobId);
      if (state === "unknown") return undefined;
      job = await Job.fromId(this.shared.queue, jobId);
      if (!job || job.name !== DECIDE) return undefined;
    } catch (err) {
      throw new SharedQueueError(
        "queue_unavailable",
        `the shared queue ${this.shared.target.display} is unavailable: ${(err as Error).message}`,
        5,
      );
    }
    const createdAt = new Date(job.timestamp).toISOString();
    const completedAt = new Date(job.finishedOn ?? Date.now()).toISOString();
    if (state === "completed") {
      const r = DecideResultSchema.safeParse(job.returnvalue);
      if (r.success) return { jobId, status: "done", createdAt, completedAt, result: r.data.answer };
      return {
        jobId,
        status: "failed",
        createdAt,
        completedAt,
        error: {
          code: "bad_result",
          message: `the worker's result could not be read (${issuesFromZod(r.error)
            .slice(0, 3)
            .map((i) => `${i.path}: ${i.message}`)
            .join("; ")}); the decision log has the decision`,
        },
      };
    }
    if (state === "failed") {
      return { jobId, status: "failed", createdAt, completedAt, error: parseFailedReason(job.failedReason) };
    }
    return { jobId, status: "pending", createdAt };
  }

  async counts(): Promise<{ pending: number; finished: number }> {
    try {
      const c = await this.shared.queue.getJobCounts(
        "waiting",
        "prioritized",
        "delayed",
        "active",
        "completed",
        "failed",
      );
      return {
        pending: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c.active ?? 0),
        finished: (c.completed ?? 0) + (c.failed ?? 0),
      };
    } catch {
      // /v1/runtime still answers with Redis down; /ready says why.
      return { pending: 0, finished: 0 };
    }
  }
}
