import type { Context } from "@opentelemetry/api";
import type { FastifyBaseLogger } from "fastify";
import { LRUCache } from "lru-cache";
import { type AdvisoryQueue, QueueFullError } from "../advisor/patterns/queue.js";
import type { AdvisoryAnswer, DecisionPipeline } from "../advisor/pipeline.js";
import type { JobStore, JobSubmission } from "../queue/jobs.js";
import { type ErrorBody, HttpError } from "./errors.js";
import { toErrorBody } from "./routes/advisory.js";

export type JobView =
  | { jobId: string; status: "pending"; createdAt: string }
  | { jobId: string; status: "done"; createdAt: string; completedAt: string; result: AdvisoryAnswer }
  | { jobId: string; status: "failed"; createdAt: string; completedAt: string; error: ErrorBody["error"] };

/**
 * Async jobs by id, bounded in number and kept for a retention time after they finish. A pending job
 * is never evicted (its result would be lost): the queue's own bound keeps their number finite.
 */
export class JobTable {
  private readonly done: LRUCache<string, JobView>;
  private readonly pending = new Map<string, JobView>();

  constructor(
    opts: { max: number; ttlMs: number },
    /** Told the counts whenever a job starts or finishes (the jobs gauge). */
    private readonly onChange: (counts: { pending: number; finished: number }) => void = () => undefined,
  ) {
    this.done = new LRUCache<string, JobView>({ max: opts.max, ttl: opts.ttlMs });
  }

  start(jobId: string): void {
    this.pending.set(jobId, { jobId, status: "pending", createdAt: new Date().toISOString() });
    this.onChange(this.counts());
  }

  finish(jobId: string, outcome: { result: AdvisoryAnswer } | { error: ErrorBody["error"] }): void {
    const job = this.pending.get(jobId);
    const createdAt = job?.createdAt ?? new Date().toISOString();
    this.pending.delete(jobId);
    const completedAt = new Date().toISOString();
    this.done.set(
      jobId,
      "result" in outcome
        ? { jobId, status: "done", createdAt, completedAt, result: outcome.result }
        : { jobId, status: "failed", createdAt, completedAt, error: outcome.error },
    );
    this.onChange(this.counts());
  }

  get(jobId: string): JobView | undefined {
    return this.pending.get(jobId) ?? this.done.get(jobId);
  }

  counts(): { pending: number; finished: number } {
    return { pending: this.pending.size, finished: this.done.size };
  }
}

/** A job as the routes submit it: with the request's log and trace, for the in-process store. */
export interface ServerJobSubmission extends JobSubmission {
  log: FastifyBaseLogger;
  traceContext?: Context;
}

/**
 * The embedded job store (no --queue): jobs decided in this process, through its own advisory queue, and
 * kept in a JobTable. A job accepted here is lost if this process dies, and other sidecars do not see it.
 */
export class LocalJobStore implements JobStore<ServerJobSubmission> {
  readonly durable = false;

  constructor(
    readonly table: JobTable,
    private readonly deps: { service: DecisionPipeline; queue: AdvisoryQueue; shutdown: AbortSignal },
  ) {}

  async submit(job: ServerJobSubmission): Promise<void> {
    const { service, queue, shutdown } = this.deps;
    // Refuse at once rather than accept a job that cannot be queued.
    if (queue.isFull()) throw new QueueFullError(queue.retryAfterSeconds(), queue.capacity);
    this.table.start(job.jobId);
    service
      .decide(
        { parsed: job.parsed, ...(job.control !== undefined ? { control: job.control } : {}) },
        {
          decisionId: job.jobId,
          deadlineMs: job.deadlineMs ?? null,
          log: job.log,
          signal: shutdown,
          ...(job.traceContext ? { traceContext: job.traceContext } : {}),
        },
      )
      .then(
        (result) => this.table.finish(job.jobId, { result }),
        (err: unknown) => {
          if (!(err instanceof QueueFullError || err instanceof HttpError))
            job.log.error({ err }, "job failed");
          this.table.finish(job.jobId, { error: toErrorBody(err) });
        },
      );
  }

  async get(jobId: string): Promise<JobView | undefined> {
    return this.table.get(jobId);
  }

  async counts(): Promise<{ pending: number; finished: number }> {
    return this.table.counts();
  }
}
