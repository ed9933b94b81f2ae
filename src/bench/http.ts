import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cpuMicros, rssMb } from "./child.js";
import { type LoadResult, runLoad } from "./load.js";
import { startBare, startSidecar } from "./sidecar.js";
import { round } from "./stats.js";
import type { HttpBenchResult, HttpRun, MemoryBenchResult, Progress } from "./types.js";
import { workload } from "./workload.js";

export interface HttpBenchOptions {
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  /** Decision log for the sidecar; default a fresh SQLite file. */
  db?: string;
  /** Also run the sidecar with its cache on. */
  cacheOn?: boolean;
  /** Also run it with the decision log on /dev/shm (when there is one), to separate fsync from CPU. */
  ramLog?: boolean;
  /** Measure idle and loaded RSS of the cache-off sidecar on the way. */
  memory?: boolean;
  progress?: Progress;
}

export interface HttpBenchOutput {
  http: HttpBenchResult;
  memory?: MemoryBenchResult;
}

const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 20;
export const TARGET_IDLE_RSS_MB = 150;

export interface MeasuredRun extends LoadResult {
  cpuUsPerRequest: number | null;
}

/** A timed load run that also reads the server's CPU time before and after. */
export async function measured(pid: number, run: () => Promise<LoadResult>): Promise<MeasuredRun> {
  const before = cpuMicros(pid);
  const r = await run();
  const after = cpuMicros(pid);
  const cpu =
    before !== undefined && after !== undefined && r.requests > 0 ? (after - before) / r.requests : null;
  return { ...r, cpuUsPerRequest: cpu === null ? null : round(cpu, 0) };
}

export const toRun = (r: MeasuredRun): HttpRun => ({
  rps: round(r.rps, 0),
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  requests: r.requests,
  statusCodes: r.statusCodes,
  errors: r.errors,
  serverCpuUsPerRequest: r.cpuUsPerRequest,
});

/** Samples a process's RSS every 200 ms; stop() returns the peak in MB. */
function rssSampler(pid: number): { stop(): number } {
  let peak = rssMb(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid) ?? 0);
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid) ?? 0);
    },
  };
}

export async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * The sidecar under load next to a bare Fastify route, each in its own child process, driven by
 * autocannon from this process with the same connections, duration and bodies.
 */
export async function runHttpBench(opts: HttpBenchOptions = {}): Promise<HttpBenchOutput> {
  const progress = opts.progress ?? (() => {});
  const connections = opts.connections ?? 10;
  const durationSec = opts.durationSec ?? 10;
  const warmupSec = opts.warmupSec ?? 2;
  const bodies = workload(64);
  const notes: string[] = [];
  const load = (url: string, seconds: number) =>
    runLoad({ url, path: "/v1/advisory", bodies, connections, durationSec: seconds });

  progress(`http: bare Fastify route, ${connections} connections, ${durationSec}s`);
  const bare = await startBare();
  let bareRun: MeasuredRun;
  try {
    await load(bare.url, warmupSec);
    bareRun = await measured(bare.child.pid, () => load(bare.url, durationSec));
  } finally {
    await bare.stop();
  }

  progress(`http: sidecar, decision log on, cache off, ${connections} connections, ${durationSec}s`);
  const off = await startSidecar({ cache: false, ...(opts.db ? { db: opts.db } : {}) });
  let offRun: MeasuredRun;
  let memory: MemoryBenchResult | undefined;
  const dbLabel = opts.db?.startsWith("postgres") ? "postgres" : "sqlite";
  try {
    let idle = 0;
    if (opts.memory) {
      await settle(1500);
      idle = rssMb(off.child.pid) ?? Number.NaN;
      progress(`memory: idle RSS ${round(idle, 1)} MB`);
    }
    await load(off.url, warmupSec);
    const sampler = opts.memory ? rssSampler(off.child.pid) : undefined;
    offRun = await measured(off.child.pid, () => load(off.url, durationSec));
    if (sampler) {
      const loaded = sampler.stop();
      progress(`memory: loaded RSS (peak) ${round(loaded, 1)} MB`);
      memory = memoryResult(idle, loaded, 0);
    }
  } finally {
    await off.stop();
  }

  let onRun: MeasuredRun | undefined;
  if (opts.cacheOn !== false) {
    progress(`http: sidecar, decision log on, cache on, ${connections} connections, ${durationSec}s`);
    const on = await startSidecar({ cache: true, ...(opts.db ? { db: opts.db } : {}) });
    try {
      await load(on.url, warmupSec);
      onRun = await measured(on.child.pid, () => load(on.url, durationSec));
    } finally {
      await on.stop();
    }
  }

  let ramRun: MeasuredRun | undefined;
  if (opts.ramLog !== false && !opts.db && existsSync("/dev/shm")) {
    progress(`http: sidecar, decision log on /dev/shm (no disk fsync), cache off, ${durationSec}s`);
    const dir = mkdtempSync(join("/dev/shm", "pa-bench-"));
    try {
      const ram = await startSidecar({ cache: false, db: join(dir, "decisions.sqlite") });
      try {
        await load(ram.url, warmupSec);
        ramRun = await measured(ram.child.pid, () => load(ram.url, durationSec));
      } finally {
        await ram.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const nonOk = (r: LoadResult) => r.requests - r.ok;
  if (nonOk(offRun) > 0)
    notes.push(`cache off: ${nonOk(offRun)} answers were not 2xx: ${JSON.stringify(offRun.statusCodes)}`);
  if (onRun && nonOk(onRun) > 0)
    notes.push(`cache on: ${nonOk(onRun)} answers were not 2xx: ${JSON.stringify(onRun.statusCodes)}`);
  const ratio = bareRun.rps > 0 ? offRun.rps / bareRun.rps : 0;
  return {
    http: {
      rps: round(offRun.rps, 0),
      p99Ms: offRun.p99Ms,
      bareRps: round(bareRun.rps, 0),
      bareP99Ms: bareRun.p99Ms,
      ratio: round(ratio, 3),
      cpuRatio:
        bareRun.cpuUsPerRequest && offRun.cpuUsPerRequest
          ? round(bareRun.cpuUsPerRequest / offRun.cpuUsPerRequest, 3)
          : null,
      cache: "off",
      cacheOff: toRun(offRun),
      cacheOn: onRun ? toRun(onRun) : null,
      bare: toRun(bareRun),
      cacheOnRatio: onRun && bareRun.rps > 0 ? round(onRun.rps / bareRun.rps, 3) : null,
      ramLog: ramRun ? toRun(ramRun) : null,
      ramLogRatio: ramRun && bareRun.rps > 0 ? round(ramRun.rps / bareRun.rps, 3) : null,
      connections,
      durationSec,
      db: dbLabel,
      notes,
      targets: [
        {
          name: "throughput vs bare route (log on)",
          detail: `${round(ratio * 100, 1)}% of bare (target >= ${TARGET_RATIO * 100}%)`,
          met: ratio >= TARGET_RATIO,
        },
        {
          name: "p99 at that load",
          detail: `${offRun.p99Ms} ms at ${connections} connections (target < ${TARGET_P99_MS} ms)`,
          met: offRun.p99Ms < TARGET_P99_MS,
        },
      ],
    },
    ...(memory ? { memory } : {}),
  };
}

export function memoryResult(idle: number, loaded: number, loadRequests: number): MemoryBenchResult {
  return {
    idleRssMb: round(idle, 1),
    loadedRssMb: round(loaded, 1),
    loadRequests,
    targets: [
      {
        name: "idle RSS without a model",
        detail: `${round(idle, 1)} MB (target < ${TARGET_IDLE_RSS_MB} MB)`,
        met: idle < TARGET_IDLE_RSS_MB,
      },
    ],
  };
}

/** Memory alone (when the http section is not run): idle, then a short load for the loaded figure. */
export async function runMemoryBench(opts: { progress?: Progress; durationSec?: number } = {}) {
  const progress = opts.progress ?? (() => {});
  const sidecar = await startSidecar({ cache: false });
  try {
    await settle(1500);
    const idle = rssMb(sidecar.child.pid) ?? Number.NaN;
    progress(`memory: idle RSS ${round(idle, 1)} MB; loading for ${opts.durationSec ?? 5}s`);
    const sampler = rssSampler(sidecar.child.pid);
    const r = await runLoad({
      url: sidecar.url,
      path: "/v1/advisory",
      bodies: workload(64),
      connections: 10,
      durationSec: opts.durationSec ?? 5,
    });
    const loaded = sampler.stop();
    progress(`memory: loaded RSS (peak) ${round(loaded, 1)} MB`);
    return memoryResult(idle, loaded, r.requests);
  } finally {
    await sidecar.stop();
  }
}
