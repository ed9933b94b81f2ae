import { LRUCache } from "lru-cache";
import type { AdvisoryAnswer } from "../advisor/pipeline.js";
import type { ErrorBody } from "./errors.js";

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
