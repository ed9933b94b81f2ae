import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { QueueFullError } from "../advisor/patterns/queue.js";
import { CodedError } from "../schemas/error-codes.js";
import { connectionFor, QUEUE_NAME, QueueConfigError, type QueueTarget } from "./connection.js";

/**
 * The shared queue cannot take or tell a job now (Redis unreachable), or this caller has as many jobs
 * waiting as it may. The HTTP layer answers its code's status (429 or 503) with Retry-After.
 */
export class SharedQueueError extends CodedError<"queue_unavailable" | "caller_queue_full"> {
  constructor(
    code: "queue_unavailable" | "caller_queue_full",
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message);
    this.name = "SharedQueueError";
  }
}

export interface SharedQueueOptions {
  target: QueueTarget;
  /** Most jobs waiting across every sidecar; one more is refused with 429 and Retry-After. */
  maxWaiting: number;
  /** Most async jobs one caller may have waiting or running, so that one caller cannot starve the others. */
  perCaller: number;
  /** How long a finished async job stays readable (GET /v1/jobs/:id), in seconds. */
  jobTtlSeconds: number;
  /** Longest wait for Redis at start before giving up with a message naming the URL. */
  connectTimeoutMs?: number;
}

/** Completions are counted over this window to measure how fast the workers drain the queue. */
const DRAIN_WINDOW_MS = 60_000;
/** A worker count read this recently is reused: /ready, every model call and every scrape ask for it. */
const WORKERS_TTL_MS = 1000;
/** When no job finished in the window, a caller refused for a full queue is told to come back after this. */
const UNKNOWN_DRAIN_RETRY_S = 30;
const MAX_RETRY_S = 3600;
/** The longest close() waits for BullMQ to close its connections. */
const CLOSE_WAIT_MS = 3000;
/** A slot reserved this recently is kept even though its job is not in Redis yet (it is being added). */
const RESERVATION_GRACE_MS = 10_000;

/**
 * Reserves one of a caller's slots, atomically: its set holds the ids of its jobs; those whose job is
 * finished (BullMQ's finishedOn) or gone are dropped first, so a slot frees itself when its job ends,
 * whoever finished it and however (a crash included). A slot just taken counts while its job is being
 * added. Returns the caller's live jobs with this one, or minus the live count at the limit.
 */
const RESERVE_SLOT = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local now = tonumber(ARGV[4])
local live = 0
for i = 1, #members, 2 do
  local id = members[i]
  local key = ARGV[1] .. id
  local recent = tonumber(members[i + 1]) > now - ${RESERVATION_GRACE_MS}
  local finished = redis.call('HEXISTS', key, 'finishedOn') == 1
  if finished or (not recent and redis.call('EXISTS', key) == 0) then
    redis.call('ZREM', KEYS[1], id)
  else
    live = live + 1
  end
end
if live >= tonumber(ARGV[2]) then return -live end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return live + 1
`;

/** Where workers count stalls and retries, shared by every process of the deployment. */
export const statsKey = (target: QueueTarget): string => `${target.prefix}:pa:stats`;

export interface SharedQueueSnapshot {
  url: string;
  workers: number;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  capacity: number;
  perCaller: number;
  /** Jobs finished per second over the last minute, as this sidecar saw them; null before any. */
  drainPerSecond: number | null;
  /** How long the oldest waiting job has waited, in seconds (0 when none waits). */
  oldestWaitSeconds: number;
  stalled: number;
  retries: number;
}

/**
 * A sidecar's connection to the shared queue (BullMQ on Redis): the queue it adds jobs to, the queue
 * events it waits for replies on, and what it measures from them (drain rate, wait times).
 */
export class SharedQueue {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** Our own keys (per-caller slots, stats) and probes, beside BullMQ's. */
  private readonly redis: Redis;
  private readonly finishedAt: number[] = [];
  private readonly openedAt = Date.now();
  private workers: { n: number; at: number } | null = null;
  private readonly waitObservers = new Set<(ms: number) => void>();
  private closed = false;

  private constructor(
    readonly opts: SharedQueueOptions,
    redis: Redis,
  ) {
    const { target } = opts;
    this.redis = redis;
    this.queue = new Queue(QUEUE_NAME, {
      connection: connectionFor(target, "producer"),
      prefix: target.prefix,
    });
    // Every synchronous caller waiting for a reply listens for the queue closing.
    this.queue.setMaxListeners(0);
    this.events = new QueueEvents(QUEUE_NAME, {
      connection: connectionFor(target, "blocking"),
      prefix: target.prefix,
    });
    this.events.setMaxListeners(0);
    // Reconnection is ioredis's; a lost connection must not crash the process (its commands fail).
    this.queue.on("error", () => undefined);
    this.events.on("error", () => undefined);
    const finished = (returnvalue?: unknown): void => {
      const now = Date.now();
      this.finishedAt.push(now);
      while (this.finishedAt.length > 0 && (this.finishedAt[0] ?? now) < now - DRAIN_WINDOW_MS)
        this.finishedAt.shift();
      const waitMs = waitOf(returnvalue);
      if (waitMs !== undefined) for (const observe of this.waitObservers) observe(waitMs);
    };
    this.events.on("completed", ({ returnvalue }) => finished(returnvalue));
    this.events.on("failed", () => finished());
  }

  /**
   * Connects, or fails within the timeout with a message naming the URL. Redis is asked first, alone:
   * BullMQ's objects are made only once it answers (they would keep reconnecting to a Redis that is not
   * there, and keep the process alive after the error).
   */
  static async open(opts: SharedQueueOptions): Promise<SharedQueue> {
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const fail = (err: unknown) =>
      new QueueConfigError(`--queue ${opts.target.display}: cannot connect: ${(err as Error).message}`);
    const redis = new Redis(opts.target.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: Math.min(5000, timeoutMs),
      lazyConnect: true,
      retryStrategy: () => null,
    });
    let lastError: Error | undefined;
    redis.on("error", (err: Error) => {
      lastError = err;
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw fail(lastError ?? err);
    }
    // Connected: from now on ioredis reconnects whenever the connection drops.
    redis.options.retryStrategy = (times: number) => Math.min(times * 200, 5000);
    const shared = new SharedQueue(opts, redis);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([shared.queue.waitUntilReady(), shared.events.waitUntilReady()]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      await shared.close().catch(() => undefined);
      throw fail(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
    return shared;
  }

  get target(): QueueTarget {
    return this.opts.target;
  }

  /** Called with the queue wait of every job any worker finishes (from its reply). */
  onWait(observe: (ms: number) => void): void {
    this.waitObservers.add(observe);
  }

  /** Jobs finished per second over the last minute (or since this sidecar started); null before any. */
  drainPerSecond(): number | null {
    const now = Date.now();
    const recent = this.finishedAt.filter((t) => t >= now - DRAIN_WINDOW_MS).length;
    if (recent === 0) return null;
    const spanMs = Math.min(DRAIN_WINDOW_MS, Math.max(1000, now - this.openedAt));
    return recent / (spanMs / 1000);
  }

  /** When a caller refused now should come back: the jobs ahead of it over the measured drain rate. */
  retryAfterSeconds(ahead: number): number {
    const rate = this.drainPerSecond();
    if (rate === null) return UNKNOWN_DRAIN_RETRY_S;
    return Math.min(MAX_RETRY_S, Math.max(1, Math.ceil(ahead / rate)));
  }

  /** Throws QueueFullError (429) when as many jobs wait as the queue may hold, SharedQueueError when down. */
  async admit(): Promise<number> {
    const waiting = await this.guard(() => this.queue.count());
    if (waiting >= this.opts.maxWaiting)
      throw new QueueFullError(
        this.retryAfterSeconds(waiting - this.opts.maxWaiting + 1),
        this.opts.maxWaiting,
      );
    return waiting;
  }

  /**
   * Takes one of the caller's slots for `jobId`; throws SharedQueueError (429) when it has perCaller jobs
   * waiting or running already. Returns how many it has with this one (the job's fair-share priority).
   */
  async reserveSlot(caller: string, jobId: string): Promise<number> {
    const n = await this.guard(
      () =>
        this.redis.eval(
          RESERVE_SLOT,
          1,
          this.callerKey(caller),
          this.queue.toKey(""),
          String(this.opts.perCaller),
          jobId,
          String(Date.now()),
          String(Math.max(this.opts.jobTtlSeconds * 1000, 3_600_000)),
        ) as Promise<number>,
    );
    if (n < 0) {
      throw new SharedQueueError(
        "caller_queue_full",
        `this caller has ${-n} jobs waiting or running, the most one caller may have (--queue-per-caller ${this.opts.perCaller}); retry when some have finished`,
        this.retryAfterSeconds(-n),
      );
    }
    return n;
  }

  /** Gives a slot back when its job could not be added after all. */
  async releaseSlot(caller: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.callerKey(caller), jobId).catch(() => undefined);
  }

  /** Workers connected to the queue now (BullMQ's own count: the connections each worker names). */
  async workersAlive(): Promise<number> {
    const now = Date.now();
    if (this.workers && now - this.workers.at < WORKERS_TTL_MS) return this.workers.n;
    const n = await this.guard(() => this.queue.getWorkersCount());
    this.workers = { n, at: now };
    return n;
  }

  /** Stalls and retries, as the workers counted them (the whole deployment's, since the queue was made). */
  async stats(): Promise<{ stalled: number; retries: number }> {
    const h = await this.guard(() => this.redis.hgetall(statsKey(this.opts.target)));
    return { stalled: Number(h.stalled ?? 0), retries: Number(h.retries ?? 0) };
  }

  async snapshot(): Promise<SharedQueueSnapshot> {
    const [counts, workers, stats, oldest] = await Promise.all([
      this.guard(() =>
        this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed"),
      ),
      this.workersAlive(),
      this.stats(),
      this.guard(() => this.queue.getJobs(["wait", "prioritized"], 0, 0, true)),
    ]);
    const first = oldest.map((j) => j.timestamp).sort((a, b) => a - b)[0];
    return {
      url: this.opts.target.display,
      workers,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      capacity: this.opts.maxWaiting,
      perCaller: this.opts.perCaller,
      drainPerSecond: this.drainPerSecond(),
      oldestWaitSeconds: first === undefined ? 0 : Math.max(0, (Date.now() - first) / 1000),
      ...stats,
    };
  }

  /** Redis answers, and how many workers are connected; for /ready. */
  async health(): Promise<{ ok: true; workers: number } | { ok: false; error: string }> {
    try {
      await this.redis.ping();
      return { ok: true, workers: await this.workersAlive() };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // BullMQ's close waits for a connection that never came up (Redis down): bounded, then dropped.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([this.events.close(), this.queue.close()]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.redis.disconnect();
  }

  private callerKey(caller: string): string {
    return `${this.opts.target.prefix}:pa:caller:${caller}`;
  }

  /** Runs a Redis operation; a failure becomes SharedQueueError (503) naming the queue. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof SharedQueueError || err instanceof QueueFullError) throw err;
      throw new SharedQueueError(
        "queue_unavailable",
        `the shared queue ${this.opts.target.display} is unavailable: ${(err as Error).message}`,
        5,
      );
    }
  }
}

/** The queue wait a worker reports in its reply, if it is there. */
function waitOf(returnvalue: unknown): number | undefined {
  let v = returnvalue;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  const w = typeof v === "object" && v !== null ? (v as { waitMs?: unknown }).waitMs : undefined;
  return typeof w === "number" && Number.isFinite(w) && w >= 0 ? w : undefined;
}
