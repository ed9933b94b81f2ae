import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { makeModel } from "../testing/gguf/model.js";
import { type ChildHandle, startNode } from "./child.js";
import { type Sidecar, startSidecar } from "./sidecar.js";
import { percentile } from "./stats.js";
import type { Progress, SkippedSection } from "./types.js";

export interface QueueBenchOptions {
  progress: Progress;
  /** Tiny model and fewer requests: a smoke test of the mechanics. */
  quick?: boolean;
  /** The Redis to use (POLICY_ADVISOR_QUEUE, default redis://127.0.0.1:6379); keys under a fresh prefix. */
  redisUrl?: string;
  /** llama.cpp threads per worker (and for the in-process reference); default 1. */
  threads?: number;
}

export interface QueueThroughput {
  workers: number;
  advisories: number;
  seconds: number;
  advisoriesPerSecond: number;
}

export interface QueueBenchResult {
  model: string;
  threadsPerWorker: number;
  /** Async jobs that all need the model, submitted at once, timed until the last is done. */
  oneWorker: QueueThroughput;
  twoWorkers: QueueThroughput;
  /** twoWorkers / oneWorker advisories per second. */
  scaling: number;
  /** POST /v1/advisory one at a time, every one needing the model: in-process model vs a worker via the queue. */
  latency: {
    requests: number;
    inProcessP50Ms: number;
    inProcessP90Ms: number;
    queueP50Ms: number;
    queueP90Ms: number;
    /** What going through the queue adds to the median: queue p50 minus in-process p50. */
    addedP50Ms: number;
  };
  notes: string[];
}

/** An off-hours commit against a stated pattern: hybrid sends it to the model. Another actor each time. */
const nuanced = (n: number) => ({
  action_type: "commit",
  actor_role: "developer",
  actor_id: `user:bench${n}`,
  t3_tensor: { competence: 0.9, reliability: 0.85, integrity: 0.9 },
  timestamp: "2026-02-02T03:30:00Z",
  team_context: "Team typically works 9-5 EST",
  recent_history: "This developer never commits outside business hours",
});

let sent = 0;
const post = (url: string, path: string, body: unknown): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Sequential synchronous advisories; the latency of each as the caller saw it. */
async function latencies(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await post(url, "/v1/advisory", nuanced(++sent));
    const body = (await res.json()) as { source?: string; fallbackCause?: string };
    if (res.status !== 200 || body.source === "fallback")
      throw new Error(`advisory ${i}: status ${res.status}, ${JSON.stringify(body).slice(0, 300)}`);
    out.push(performance.now() - started);
  }
  return out;
}

/** N async jobs at once; the time until every one is done. */
async function throughput(url: string, n: number, workers: number): Promise<QueueThroughput> {
  const started = performance.now();
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await post(url, "/v1/jobs", nuanced(++sent));
      if (res.status !== 202) throw new Error(`job refused: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { jobId: string }).jobId;
    }),
  );
  const pending = new Set(ids);
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const v = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as { status: string; error?: unknown };
      if (v.status === "failed") throw new Error(`job ${id} failed: ${JSON.stringify(v.error)}`);
      if (v.status === "done") pending.delete(id);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  return { workers, advisories: n, seconds: round(seconds, 2), advisoriesPerSecond: round(n / seconds, 2) };
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** `policy-advisor worker` in a child process; resolves once it takes jobs. */
async function startWorker(args: string[], timeoutMs = 120_000): Promise<ChildHandle> {
  const child = startNode("cli/main", ["worker", ...args]);
  const until = Date.now() + timeoutMs;
  while (!child.stderr().includes("worker ready on")) {
    if (child.exited()) throw new Error(`a worker exited before it was ready:\n${child.stderr().trim()}`);
    if (Date.now() > until) {
      await child.stop();
      throw new Error(`a worker was not ready after ${timeoutMs} ms:\n${child.stderr().trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

async function waitForWorkers(url: string, n: number): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const ready = (await (await fetch(`${url}/ready`)).json()) as { checks?: { queue?: string } };
    if (ready.checks?.queue?.endsWith(`: ${n} worker${n === 1 ? "" : "s"}`)) return;
    if (Date.now() > until) throw new Error(`the sidecar does not see ${n} workers: ${ready.checks?.queue}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `bench --only queue`: advisories per second through the shared queue with one and with two workers on
 * the synthetic model, and what the queue adds to a synchronous call's latency against the in-process
 * model. Every request needs the model (the rules fast path never touches the queue).
 */
export async function runQueueBench(opts: QueueBenchOptions): Promise<QueueBenchResult | SkippedSection> {
  const { progress } = opts;
  const redisUrl = opts.redisUrl ?? process.env.POLICY_ADVISOR_QUEUE ?? "redis://127.0.0.1:6379";
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    probe.disconnect();
    const reason = `no Redis at ${redisUrl} (${(err as Error).message}); set POLICY_ADVISOR_QUEUE`;
    progress(`queue: skipped: ${reason}`);
    return { skipped: true, reason };
  }
  const quick = opts.quick === true;
  const threads = opts.threads ?? 1;
  // The tiny synthetic model: what is measured is the queue and the workers, not the model, and a
  // bench-preset advisory takes ~10 s on one thread of a busy 2-core machine.
  const preset = "tiny";
  const jobs = quick ? 4 : 24;
  const sequential = quick ? 3 : 12;
  const dir = mkdtempSync(join(tmpdir(), "pa-bench-queue-"));
  const model = join(dir, `${preset}.gguf`);
  const prefix = `pa-bench-${randomUUID().slice(0, 8)}`;
  const queue = `${redisUrl}${redisUrl.includes("?") ? "&" : "?"}prefix=${prefix}`;
  const db = join(dir, "decisions.db");
  const children: Array<{ stop(): Promise<void> }> = [];
  const started = async <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const c = await p;
    children.push(c);
    return c;
  };
  const serveArgs = ["--engine", "hybrid", "--mode", "enforce", "--log-level", "warn"];
  const workerArgs = [
    "--queue",
    queue,
    "--db",
    db,
    "--model",
    model,
    "--threads",
    String(threads),
    "--log-level",
    "warn",
  ];
  try {
    progress(`queue: writing the synthetic ${preset} model`);
    makeModel({ out: model, preset });

    progress(`queue: in-process reference: ${sequential} advisories one at a time`);
    const local = await started(
      startSidecar({
        db: join(dir, "local.db"),
        cache: false,
        args: [...serveArgs, "--model", model, "--threads", String(threads), "--sequences", "1"],
        readyTimeoutMs: 120_000,
      }),
    );
    await latencies(local.url, 2);
    const inProcess = await latencies(local.url, sequential);
    await local.stop();

    progress("queue: a sidecar without a model, one worker");
    const sidecar: Sidecar = await started(
      startSidecar({ db, cache: false, args: [...serveArgs, "--queue", queue], readyTimeoutMs: 60_000 }),
    );
    await started(startWorker([...workerArgs, "--name", "bench-1"]));
    await waitForWorkers(sidecar.url, 1);
    await latencies(sidecar.url, 2);
    progress(`queue: ${sequential} advisories one at a time through the queue`);
    const viaQueue = await latencies(sidecar.url, sequential);
    progress(`queue: ${jobs} jobs at once, one worker`);
    const one = await throughput(sidecar.url, jobs, 1);
    progress(`queue: ${one.advisoriesPerSecond} advisories/s; a second worker`);
    await started(startWorker([...workerArgs, "--name", "bench-2"]));
    await waitForWorkers(sidecar.url, 2);
    // Warm-up: one job each (a worker's first advisory pays for its first prompt).
    await throughput(sidecar.url, 2, 2);
    progress(`queue: ${jobs} jobs at once, two workers`);
    const two = await throughput(sidecar.url, jobs, 2);
    progress(`queue: ${two.advisoriesPerSecond} advisories/s`);

    const p = (xs: number[], q: number) => round(percentile(xs, q));
    const latency = {
      requests: sequential,
      inProcessP50Ms: p(inProcess, 50),
      inProcessP90Ms: p(inProcess, 90),
      queueP50Ms: p(viaQueue, 50),
      queueP90Ms: p(viaQueue, 90),
      addedP50Ms: round(percentile(viaQueue, 50) - percentile(inProcess, 50)),
    };
    return {
      model: `synthetic ${preset} preset (random weights)`,
      threadsPerWorker: threads,
      oneWorker: one,
      twoWorkers: two,
      scaling: round(two.advisoriesPerSecond / one.advisoriesPerSecond, 2),
      latency,
      notes: [
        "Every request needs the model; requests the rules decide alone never touch the queue.",
        "Workers are processes on this machine sharing its cores: two workers scale only as far as there are free cores.",
        `Decision log: SQLite in a temp dir, shared by the sidecar and the workers; Redis ${redisUrl} (prefix ${prefix}, removed after).`,
      ],
    };
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await dropKeys(probe, prefix).catch(() => undefined);
    probe.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dropKeys(r: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await r.del(...keys);
  } while (cursor !== "0");
}
