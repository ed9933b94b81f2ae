import PQueue from "p-queue";
import { CodedError } from "../../schemas/error-codes.js";

/** The queue is at capacity: the caller should come back after `retryAfterSeconds` (HTTP 429). */
export class QueueFullError extends CodedError<"queue_full"> {
  constructor(
    readonly retryAfterSeconds: number,
    readonly capacity: number,
  ) {
    super(
      "queue_full",
      `the advisory queue is full (${capacity} waiting); retry after ${retryAfterSeconds} s`,
    );
    this.name = "QueueFullError";
  }
}

/** The queue was closed (shutdown) before the work could start. */
export class QueueClosedError extends CodedError<"shutting_down"> {
  constructor() {
    super("shutting_down", "the service is shutting down");
    this.name = "QueueClosedError";
  }
}

export interface QueueOptions {
  /** How many advisories run at once: the LLM's parallelism (sequences or server slots). */
  concurrency: number;
  /** How many may wait beyond those running; one more is refused at once, never left to hang. */
  capacity: number;
  /** Observed when work leaves the queue and starts: how long it waited. */
  onWait?: (ms: number) => void;
  /** Observed whenever the number waiting or running changes. */
  onDepth?: (waiting: number, running: number) => void;
}

export interface QueueRunOptions {
  /** Aborting while queued removes the work before it starts (the caller stopped waiting). */
  signal?: AbortSignal;
}

/**
 * Bounded concurrency and a bounded queue in front of the advisor (p-queue).
 * Work past capacity fails fast with QueueFullError carrying a Retry-After estimate
 * from the recent service time, so a caller knows when to come back.
 */
export class AdvisoryQueue {
  private readonly q: PQueue;
  private closed = false;
  /** Exponential moving average of service time, for Retry-After. */
  private avgServiceMs = 50;
  /** Work accepted but not started yet, to refuse at shutdown. */
  private readonly waitingCancels = new Set<AbortController>();
  /** Work still in p-queue whose caller was already answered (deadline, shutdown). */
  private abandoned = 0;

  constructor(private readonly opts: QueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new RangeError("concurrency must be >= 1");
    if (!Number.isInteger(opts.capacity) || opts.capacity < 0)
      throw new RangeError("queue capacity must be >= 0");
    this.q = new PQueue({ concurrency: opts.concurrency });
  }

  /** Work waiting for a slot, not counting work whose caller already gave up (it leaves at once). */
  get waiting(): number {
    return this.q.size - this.abandoned;
  }
  get running(): number {
    return this.q.pending;
  }
  get concurrency(): number {
    return this.opts.concurrency;
  }
  get capacity(): number {
    return this.opts.capacity;
  }

  /** True when one more piece of work would be refused. */
  isFull(): boolean {
    return this.q.pending >= this.opts.concurrency && this.waiting >= this.opts.capacity;
  }

  retryAfterSeconds(): number {
    const ahead = this.waiting + this.q.pending;
    return Math.max(1, Math.ceil((ahead * this.avgServiceMs) / this.opts.concurrency / 1000));
  }

  async run<T>(fn: (signal: AbortSignal) => Promise<T>, opts: QueueRunOptions = {}): Promise<T> {
    if (this.closed) throw new QueueClosedError();
    if (this.isFull()) throw new QueueFullError(this.retryAfterSeconds(), this.opts.capacity);
    const enqueued = performance.now();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let started = false;
    let abandoned = false;
    // Rejects the caller at once when the work is cancelled before it starts (caller gone, shutdown):
    // p-queue would otherwise keep it waiting for a slot only to throw then.
    let cancelWaiting: (reason: unknown) => void = () => undefined;
    const cancelled = new Promise<never>((_, reject) => {
      cancelWaiting = reject;
    });
    cancelled.catch(() => undefined);
    const onCancel = (): void => {
      if (started) return;
      // Its caller is answered now; until p-queue reaches it, it must not count as waiting.
      abandoned = true;
      this.abandoned++;
      cancelWaiting(controller.signal.reason ?? new QueueClosedError());
    };
    controller.signal.addEventListener("abort", onCancel, { once: true });
    this.waitingCancels.add(controller);
    try {
      const pending = this.q.add(
        async () => {
          this.waitingCancels.delete(controller);
          if (abandoned) this.abandoned--;
          if (controller.signal.aborted) throw controller.signal.reason ?? new QueueClosedError();
          started = true;
          this.report();
          this.opts.onWait?.(performance.now() - enqueued);
          const begun = performance.now();
          try {
            return await fn(controller.signal);
          } finally {
            this.avgServiceMs = 0.8 * this.avgServiceMs + 0.2 * (performance.now() - begun);
          }
        },
        { throwOnTimeout: true },
      );
      pending.catch(() => undefined);
      this.report();
      return (await Promise.race([pending, cancelled])) as T;
    } finally {
      this.waitingCancels.delete(controller);
      opts.signal?.removeEventListener("abort", onAbort);
      controller.signal.removeEventListener("abort", onCancel);
      this.report();
    }
  }

  /**
   * Stop accepting; work still waiting is refused at once (its caller fails closed), running work
   * finishes. Resolves when nothing runs any more.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.waitingCancels]) c.abort(new QueueClosedError());
    this.waitingCancels.clear();
    await this.q.onIdle();
  }

  private report(): void {
    this.opts.onDepth?.(this.waiting, this.q.pending);
  }
}
