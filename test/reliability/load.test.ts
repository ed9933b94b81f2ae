import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rssMb } from "../../src/bench/child.js";
import { runLoad } from "../../src/bench/load.js";
import { type Sidecar, startSidecar } from "../../src/bench/sidecar.js";
import { workload } from "../../src/bench/workload.js";
import { longTests } from "../helpers/long.js";
import { type ModelServer, startModelServer } from "./model-server.js";

const long = longTests("load");

/**
 * Bounded load (about a minute in all) on the real `serve` process, from autocannon in this process:
 * - LLM engine in front of a model slower than the traffic: far above capacity, the only errors are 429s
 *   (with Retry-After), the queue never grows past its bound, memory stays flat, p99 is reported;
 * - rules engine as fast as it goes: no error at all.
 */

const QUEUE = 16;

interface Samples {
  rss: number[];
  /** V8 heap in use (MB), from the service's own /metrics. */
  heap: number[];
  maxDepth: number;
  stop(): Promise<void>;
}

/** Samples RSS (from /proc) and queue depth (from /v1/runtime) every 500 ms while the load runs. */
function watch(s: Sidecar): Samples {
  const out: Samples = { rss: [], heap: [], maxDepth: 0, stop: async () => {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = rssMb(s.child.pid);
      if (r !== undefined) out.rss.push(r);
      try {
        const rt = (await (
          await fetch(`${s.url}/v1/runtime`, { signal: AbortSignal.timeout(2000) })
        ).json()) as {
          queue: { depth: number };
        };
        out.maxDepth = Math.max(out.maxDepth, rt.queue.depth);
        const metrics = await (await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
        const m = /^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(metrics);
        if (m) out.heap.push(Number(m[1]) / 1024 / 1024);
      } catch {
        // a slow answer under load is not a failure of the watcher
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  out.stop = async () => {
    running = false;
    await loop;
  };
  return out;
}

const third = (xs: number[], i: number) =>
  xs.slice(Math.floor((xs.length * i) / 3), Math.floor((xs.length * (i + 1)) / 3));
const max = (xs: number[]) => Math.max(...xs);
const min = (xs: number[]) => Math.min(...xs);

describe.skipIf(!long)("load (long: CI or POLICY_ADVISOR_LONG_TESTS=1)", () => {
  let model: ModelServer;
  beforeAll(async () => {
    model = await startModelServer("slow_deny");
    model.delayMs = 50;
  });
  afterAll(async () => {
    await model?.close();
  });

  it("far above capacity: only 429s as errors, with Retry-After; queue bounded; memory flat; p99 reported", async () => {
    const s = await startSidecar({
      cache: false,
      args: ["--engine", "llm", "--llm-url", model.url, "--llm-model", "fault-model"],
      env: {
        POLICY_ADVISOR_QUEUE_SIZE: String(QUEUE),
        POLICY_ADVISOR_CONCURRENCY: "2",
        POLICY_ADVISOR_DEADLINE_MS: "5000",
        POLICY_ADVISOR_LOG_LEVEL: "warn",
        // A capped old space makes V8 collect often, so the heap's floor shows live memory within 30 s
        // (uncapped it saw-tooths for longer than the run), and a leak would end the process.
        NODE_OPTIONS: "--max-old-space-size=96",
      },
    });
    try {
      const w = watch(s);
      const loadRun = runLoad({
        url: s.url,
        path: "/v1/advisory",
        bodies: workload(64),
        connections: 100,
        durationSec: 30,
        // An answer later than the deadline is still an answer; 30 s without one would be a hang. (On a
        // 2-core machine running other test files at once, a few answers can take over 10 s.)
        timeoutSec: 30,
      });
      // While the queue is full, a refused request says when to come back.
      await new Promise((r) => setTimeout(r, 3000));
      const probes = await Promise.all(
        Array.from({ length: 40 }, () =>
          fetch(`${s.url}/v1/advisory`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(workload(1)[0]),
          }),
        ),
      );
      const refused = probes.filter((p) => p.status === 429);
      const r = await loadRun;
      await w.stop();
      const summary = {
        rps: Math.round(r.rps),
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        maxMs: r.maxMs,
        statusCodes: r.statusCodes,
        errors: r.errors,
        timeouts: r.timeouts,
        maxQueueDepth: w.maxDepth,
        rssMb: {
          first: Math.round(max(third(w.rss, 0))),
          middle: Math.round(max(third(w.rss, 1))),
          last: Math.round(max(third(w.rss, 2))),
        },
        rssSeries: w.rss.filter((_, i) => i % 6 === 0).map(Math.round),
        // Heap after collections: the lowest sample of each third (RSS and heap saw-tooth between collections).
        heapFloorMb: { middle: Math.round(min(third(w.heap, 1))), last: Math.round(min(third(w.heap, 2))) },
      };
      console.log(`load above capacity (LLM, queue ${QUEUE}, concurrency 2): ${JSON.stringify(summary)}`);

      expect(Object.keys(r.statusCodes).sort()).toEqual(["200", "429"]);
      expect(r.errors).toBe(0);
      expect(r.timeouts).toBe(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const p of refused) {
        expect(Number(p.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        const body = (await p.json()) as { error: { code: string } };
        expect(body.error.code).toBe("queue_full");
      }
      expect(w.maxDepth).toBeLessThanOrEqual(QUEUE);
      // Accepted work is answered well within the deadline: the queue bounds the wait.
      expect(r.p99Ms).toBeLessThan(5000);
      // Flat: RSS and heap saw-tooth by tens of MB between collections, so compare the heap's floor (its
      // lowest sample, just after a collection) in the last third with the middle third: a leak of 1 KB per
      // request (some 20 000 requests a third here) would raise it by about 20 MB.
      expect(w.heap.length).toBeGreaterThan(10);
      expect(s.child.exited()).toBe(false);
      expect(summary.heapFloorMb.last).toBeLessThan(summary.heapFloorMb.middle + 15);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it("the rules engine at full speed: every request answered, no error", async () => {
    const s = await startSidecar({ cache: false, env: { POLICY_ADVISOR_LOG_LEVEL: "warn" } });
    try {
      const w = watch(s);
      const r = await runLoad({
        url: s.url,
        path: "/v1/advisory",
        bodies: workload(256),
        connections: 32,
        durationSec: 15,
        timeoutSec: 30,
      });
      await w.stop();
      console.log(
        `load rules engine, 32 connections: ${JSON.stringify({ rps: Math.round(r.rps), p50Ms: r.p50Ms, p99Ms: r.p99Ms, statusCodes: r.statusCodes, maxQueueDepth: w.maxDepth, rssMb: { first: Math.round(max(third(w.rss, 0))), last: Math.round(max(third(w.rss, 2))) } })}`,
      );
      expect(r.errors).toBe(0);
      expect(Object.keys(r.statusCodes).filter((c) => c !== "200" && c !== "429")).toEqual([]);
      expect(r.statusCodes["200"] ?? 0).toBeGreaterThan(0);
      expect(w.maxDepth).toBeLessThanOrEqual(256);
    } finally {
      await s.stop();
    }
  }, 90_000);
});
