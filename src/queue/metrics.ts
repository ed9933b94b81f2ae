import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { SharedQueue, SharedQueueSnapshot } from "./shared-queue.js";

const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** One snapshot serves every gauge of a scrape (they are collected one after another). */
const SNAPSHOT_TTL_MS = 500;

/**
 * The shared queue's numbers on a sidecar's /metrics. Depth, workers, stalls and retries are the whole
 * deployment's (read from Redis), so every sidecar reports the same values: aggregate them with max(),
 * not sum(). The wait histogram counts every job any worker finished while this sidecar listened.
 */
export function registerQueueMetrics(registry: Registry, shared: SharedQueue): void {
  let last: { at: number; value: Promise<SharedQueueSnapshot | null> } | null = null;
  const snapshot = (): Promise<SharedQueueSnapshot | null> => {
    const now = Date.now();
    if (!last || now - last.at > SNAPSHOT_TTL_MS) {
      // Redis down: the gauges are left out of the scrape rather than failing it.
      last = { at: now, value: shared.snapshot().catch(() => null) };
    }
    return last.value;
  };
  const gauge = (name: string, help: string, read: (s: SharedQueueSnapshot) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        const v = s ? read(s) : null;
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  new Gauge({
    name: "policy_advisor_shared_queue_jobs",
    help: "Jobs in the shared queue by state (waiting, active, delayed for a retry, completed, failed)",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const state of ["waiting", "active", "delayed", "completed", "failed"] as const)
        this.set({ state }, s[state]);
    },
  });
  gauge("policy_advisor_shared_queue_capacity", "Most jobs that may wait (--queue-max)", (s) => s.capacity);
  gauge(
    "policy_advisor_shared_queue_workers",
    "Model workers connected to the shared queue now",
    (s) => s.workers,
  );
  gauge(
    "policy_advisor_shared_queue_oldest_wait_seconds",
    "How long the job at the head of the shared queue has waited",
    (s) => s.oldestWaitSeconds,
  );
  gauge(
    "policy_advisor_shared_queue_drain_per_second",
    "Jobs the workers finished per second over the last minute (the Retry-After of a full queue)",
    (s) => s.drainPerSecond,
  );
  const total = (name: string, help: string, read: (s: SharedQueueSnapshot) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) this.inc(read(s));
      },
    });
  total(
    "policy_advisor_shared_queue_stalled_total",
    "Jobs found stalled (their worker stopped mid-job) and put back in the queue",
    (s) => s.stalled,
  );
  total(
    "policy_advisor_shared_queue_retries_total",
    "Job attempts started again after a stall or a failed attempt",
    (s) => s.retries,
  );
  const wait = new Histogram({
    name: "policy_advisor_shared_queue_wait_seconds",
    help: "Time a job waited in the shared queue before a worker took it",
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  shared.onWait((ms) => wait.observe(ms / 1000));
}
