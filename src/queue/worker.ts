import { performance } from "node:perf_hooks";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { verdictToDecision } from "../advisor/create.js";
import { routesToLlm } from "../advisor/hybrid.js";
import { effectiveDecision } from "../advisor/modes.js";
import { DeadlineExceededError, withDeadline } from "../advisor/patterns/deadline.js";
import { type FallbackCause, fallbackDecision } from "../advisor/patterns/fallback.js";
import type { Advisor, EngineKind } from "../advisor/types.js";
import type { EngineVerdict } from "../engine/types.js";
import type { Decision } from "../schemas/decision.js";
import { InvalidRequestError } from "../schemas/errors.js";
import type { DecisionRecord } from "../schemas/records.js";
import { type ParsedRequest, parseRequest } from "../schemas/request.js";
import { appendOnce } from "../store/append-once.js";
import { LogFullError } from "../store/errors.js";
import type { Masker } from "../store/mask.js";
import type { DecisionStore } from "../store/types.js";
import { connectionFor, QUEUE_NAME, type QueueTarget } from "./connection.js";
import { BACKOFF_TYPE, jobBackoff } from "./jobs.js";
import {
  ADVISE,
  type AdviseJob,
  AdviseJobSchema,
  type AdviseResult,
  DECIDE,
  type DecideJob,
  DecideJobSchema,
  type DecideResult,
  failedReason,
  type QueuedAnswer,
} from "./protocol.js";
import { statsKey } from "./shared-queue.js";

/** What the worker writes to its log (pino's logger is one). */
export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface QueueWorkerOptions {
  target: QueueTarget;
  /** The advisor of each engine a sidecar may ask for, over the one model this worker loaded. */
  advisors: Record<EngineKind, Advisor>;
  /** The shared decision log: the worker logs each async job's decision there, once. */
  store: DecisionStore;
  /** The log's masking: what a reply stored in Redis may quote of a request is scrubbed the same way. */
  masker: Masker;
  /** Jobs at once: the model's parallel sequences. */
  concurrency: number;
  /** BullMQ's job lock: a worker that stops renewing it (killed) has its job retried after this long. */
  lockMs: number;
  /** How often a job may be found stalled (its worker gone) and retried before it fails. */
  maxStalls: number;
  /** Names the worker in Redis (CLIENT LIST, a job's processedBy) and in its log. */
  name: string;
  log: WorkerLog;
}

export interface QueueWorker {
  readonly worker: Worker;
  /** Stops taking jobs and waits for those running to finish. */
  close(): Promise<void>;
}

const answerOf = (r: DecisionRecord): QueuedAnswer => ({
  ...r.decision,
  mode: r.mode,
  effectiveDecision: r.effectiveDecision,
});

/**
 * A model worker: takes advisories from the shared queue (BullMQ) and answers them with its model.
 * An `advise` job is a synchronous caller's interpreter call: the reply goes back through the queue and
 * the sidecar logs the decision. A `decide` job is an async job: the worker decides it as the accepting
 * sidecar would (its engine, tier and mode), logs it in the shared decision log exactly once (the job id
 * is the decision id), and replies with the logged answer, which any sidecar then reads.
 *
 * A worker killed mid-job stops renewing its lock; BullMQ's stalled-job check (run by every worker) puts
 * the job back, and another worker runs it, at most `maxStalls` times. A job whose caller's deadline
 * passed while it waited is not run: an async job is answered (and logged) by the fail-closed fallback.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  const { store, masker, log } = opts;
  // Counters every sidecar reads (stalls, retries); a lost connection only loses a count.
  const stats = new Redis(opts.target.url, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
  stats.on("error", () => undefined);
  const count = (field: "stalled" | "retries"): void => {
    void stats.hincrby(statsKey(opts.target), field, 1).catch(() => undefined);
  };
  const warnedPolicies = new Set<string>();
  const checkPolicy = (advisor: Advisor, sidecarPolicy: string): void => {
    if (sidecarPolicy === advisor.policy.revision || warnedPolicies.has(sidecarPolicy)) return;
    warnedPolicies.add(sidecarPolicy);
    log.warn(
      { sidecarPolicy, workerPolicy: advisor.policy.revision },
      "a sidecar runs another policy than this worker: its requests are decided with this worker's (give both the same --policy)",
    );
  };

  /** The request, validated again: Redis is shared, so what it holds is checked like any input. */
  const requestOf = (input: unknown): ParsedRequest => {
    try {
      return parseRequest(input);
    } catch (err) {
      if (err instanceof InvalidRequestError)
        throw new UnrecoverableError(failedReason(err.code, err.message));
      throw err;
    }
  };

  /** A job's request validated again, the advisor of its engine, and the rules' verdict (once). */
  const prepare = (data: AdviseJob | DecideJob) => {
    const parsed = requestOf(data.input);
    const advisor = opts.advisors[data.engine];
    checkPolicy(advisor, data.policy);
    return { parsed, advisor, verdict: advisor.verdict(parsed) };
  };

  /** The advice with the time left; any failure to get it in time is the fail-closed answer. */
  const adviseWithin = async (
    advisor: Advisor,
    parsed: ParsedRequest,
    verdict: EngineVerdict,
    decisionId: string,
    deadlineAt: number | null,
    started: number,
  ): Promise<Decision> => {
    const versions = advisor.versions();
    const fallback = (cause: FallbackCause, detail: string): Decision =>
      fallbackDecision(verdict, {
        decisionId,
        versions,
        cause,
        detail,
        latencyMs: performance.now() - started,
      });
    const left = deadlineAt === null ? undefined : deadlineAt - Date.now();
    if (left !== undefined && left <= 0) return fallback("deadline", "expired in the queue; not run");
    try {
      return await withDeadline(left, (signal) =>
        advisor.adviseParsed(parsed, { signal, decisionId, verdict }),
      );
    } catch (err) {
      if (err instanceof DeadlineExceededError) return fallback("deadline", `${err.deadlineMs} ms`);
      log.error({ decisionId, err: (err as Error).message }, "advisor failed");
      return fallback("llm_error", (err as Error).message);
    }
  };

  const advise = async (data: AdviseJob, waitMs: number): Promise<AdviseResult> => {
    if (data.deadlineAt !== null && Date.now() >= data.deadlineAt) return { kind: "expired", waitMs };
    const started = performance.now();
    const { parsed, advisor, verdict } = prepare(data);
    const decision =
      data.engine === "rules" || !routesToLlm(data.engine, verdict)
        ? verdictToDecision(verdict, advisor.versions(), started, data.decisionId)
        : await adviseWithin(advisor, parsed, verdict, data.decisionId, data.deadlineAt, started);
    if (decision.fallbackCause?.startsWith("deadline")) return { kind: "expired", waitMs };
    // Stored in Redis until the sidecar reads it: scrubbed of masked values as the log would be.
    return {
      kind: "decision",
      decision: masker.scrubDecision(decision, masker.secretsOf(parsed.original)),
      waitMs,
    };
  };

  const decide = async (job: Job, data: DecideJob, waitMs: number): Promise<DecideResult> => {
    const decisionId = job.id as string;
    // A retry: an earlier attempt may have logged it (and died before replying): that is the answer.
    const logged = job.attemptsStarted > 1 || data.logged ? await store.get(decisionId) : undefined;
    if (logged) return { answer: answerOf(logged), waitMs };
    if (data.logged) {
      throw new UnrecoverableError(
        failedReason("not_found", "the decision was logged but is no longer in the log"),
      );
    }
    const started = performance.now();
    const { parsed, advisor, verdict } = prepare(data);
    const decision =
      data.engine === "rules" || !routesToLlm(data.engine, verdict)
        ? data.deadlineAt !== null && Date.now() >= data.deadlineAt
          ? fallbackDecision(verdict, {
              decisionId,
              versions: advisor.versions(),
              cause: "deadline",
              detail: "expired in the queue; not run",
              latencyMs: performance.now() - started,
            })
          : verdictToDecision(verdict, advisor.versions(), started, decisionId)
        : await adviseWithin(advisor, parsed, verdict, decisionId, data.deadlineAt, started);
    const tier = decision.tier ?? data.tier;
    const record: DecisionRecord = {
      decisionId,
      createdAt: new Date().toISOString(),
      input: parsed.original,
      shape: parsed.shape,
      decision,
      mode: data.mode,
      tier,
      effectiveDecision: effectiveDecision(data.mode, decision.decision, data.control, tier),
      ...(data.control !== undefined ? { control: data.control } : {}),
    };
    try {
      await appendOnce(store, record);
    } catch (err) {
      // A full log stays full until pruned: no retry. Anything else (the log down) is retried with backoff.
      if (err instanceof LogFullError) throw new UnrecoverableError(failedReason("log_full", err.message));
      throw new Error(failedReason("store_unavailable", (err as Error).message));
    }
    // The answer is what the log holds (masked), whoever wrote it: the stores' append is idempotent by
    // decision id, so a second worker's append resolves without writing and only the read tells whose
    // record it is. The request leaves Redis.
    const stored = (await store.get(decisionId)) ?? masker.record(record);
    await job.updateData({ ...data, input: null, logged: true }).catch(() => undefined);
    log.info(
      {
        decisionId,
        decision: stored.decision.decision,
        effectiveDecision: stored.effectiveDecision,
        source: stored.decision.source,
        tier: stored.tier,
        mode: stored.mode,
        waitMs,
        attempt: job.attemptsStarted,
      },
      "decision",
    );
    return { answer: answerOf(stored), waitMs };
  };

  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const waitMs = Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp);
      if (job.attemptsStarted > 1) {
        count("retries");
        log.warn({ jobId: job.id, attempt: job.attemptsStarted }, "job retried");
      }
      if (job.name === ADVISE) {
        const r = AdviseJobSchema.safeParse(job.data);
        if (!r.success) throw new UnrecoverableError(failedReason("bad_job", r.error.message));
        return advise(r.data, waitMs);
      }
      if (job.name === DECIDE) {
        const r = DecideJobSchema.safeParse(job.data);
        if (!r.success) throw new UnrecoverableError(failedReason("bad_job", r.error.message));
        return decide(job, r.data, waitMs);
      }
      throw new UnrecoverableError(failedReason("bad_job", `unknown job kind "${job.name}"`));
    },
    {
      connection: connectionFor(opts.target, "blocking"),
      prefix: opts.target.prefix,
      name: opts.name,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: opts.lockMs,
      maxStalledCount: opts.maxStalls,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === BACKOFF_TYPE ? jobBackoff(attemptsMade) : 1000,
      },
      autorun: false,
    },
  );
  worker.on("error", (err) => log.warn({ err: err.message }, "queue connection error"));
  worker.on("stalled", (jobId) => {
    count("stalled");
    log.warn({ jobId }, "job stalled (its worker stopped): back in the queue");
  });
  worker.on("failed", (job, err) => {
    if (job) log.error({ jobId: job.id, attempt: job.attemptsMade, err: err.message }, "job failed");
  });
  void worker.run();
  await worker.waitUntilReady();
  return {
    worker,
    close: async () => {
      await worker.close();
      stats.disconnect();
    },
  };
}
