import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job, Queue } from "bullmq";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesToLlm } from "../../src/advisor/hybrid.js";
import { createEngine } from "../../src/engine/index.js";
import { loadPolicy } from "../../src/policy/load.js";
import { QUEUE_NAME } from "../../src/queue/connection.js";
import { parseRequest } from "../../src/schemas/request.js";
import { makeModel } from "../../src/testing/gguf/model.js";
import { externalAvailable } from "../helpers/external.js";
import { type ServeChild, serveChild } from "../server/serve-child.js";
import { dropSchema, PG_URL, postgresUp, uniqueSchema } from "../store/fixtures.js";
import {
  dropPrefix,
  queueUrl,
  REDIS_URL,
  redisUp,
  uniquePrefix,
  until,
  type WorkerChild,
  workerChild,
} from "./helpers.js";

/**
 * The scale-out promise (docs/scale-out.md): N sidecars and M model workers share one Redis queue and one
 * PostgreSQL log. A job acknowledged with 202 is not lost when the worker deciding it is killed (BullMQ's
 * stalled-job check gives it to another) nor when the sidecar that accepted it is killed (any sidecar
 * reads it), and its decision is logged exactly once (the job id is the decision id).
 */
const redisOk = externalAvailable("Redis", await redisUp(), `no server at ${REDIS_URL}`);
const pgOk = externalAvailable("PostgreSQL", await postgresUp(), `no server at ${PG_URL}`);

const JOBS = 200;
const SEED = (
  JSON.parse(readFileSync(new URL("../../data/scenarios/seed-basic.json", import.meta.url), "utf8")) as {
    scenarios: { id: string; situation: Record<string, unknown> }[];
  }
).scenarios;
const seed = (id: string): Record<string, unknown> => {
  const s = SEED.find((x) => x.id === id);
  if (!s) throw new Error(`no seed scenario ${id}`);
  return s.situation;
};
/**
 * The mix: one request in five needs the interpreter (hybrid routes it to a worker's model), the rules
 * decide the others alone, as they do most routine traffic (reads, clean allows, hard denies). Every one
 * goes through the durable queue as a job. With random weights an advisory costs about 0.7 s of CPU here.
 */
const NUANCED = ["M01", "M02", "H01", "H02", "EC02"].map(seed);
const CLEAR = ["E01", "E02", "EC01"].map(seed);
const requestFor = (i: number): Record<string, unknown> =>
  (i % 5 === 0 ? NUANCED[(i / 5) % NUANCED.length] : CLEAR[i % CLEAR.length]) as Record<string, unknown>;

interface Accepted {
  jobId: string;
  /** Which sidecar took it (0 or 1). */
  sidecar: number;
}

describe.skipIf(!redisOk || !pgOk)("scale-out: 2 sidecars, 2 workers, one Redis, one PostgreSQL", () => {
  const dir = mkdtempSync(join(tmpdir(), "pa-scale-out-"));
  const model = join(dir, "tiny.gguf");
  const schema = uniqueSchema();
  const prefix = uniquePrefix();
  const db = `${PG_URL}?schema=${schema}`;
  const queue = queueUrl(prefix);
  let workers: WorkerChild[] = [];
  let sidecars: ServeChild[] = [];
  let inspect: Queue;

  beforeAll(async () => {
    makeModel({ out: model, preset: "tiny" });
    // The log's schema is made by the first to open it; the others then find it.
    const worker = (name: string) =>
      workerChild(name, [
        "--queue",
        queue,
        "--db",
        db,
        "--model",
        model,
        // One thread each: the two workers share the machine's 2 cores with everything else.
        "--threads",
        "1",
        // A dead worker's job goes back to the queue within about 2 x 3 s (the lock, then a stall check).
        "--lock-ms",
        "3000",
        "--max-stalls",
        "3",
        "--log-level",
        "info",
      ]);
    const sidecar = () =>
      serveChild([
        "--queue",
        queue,
        "--db",
        db,
        "--engine",
        "hybrid",
        "--mode",
        "enforce",
        "--log-level",
        "warn",
        "--rate-limit",
        "off",
      ]);
    // All four start at once: loading a model and compiling the service take seconds each.
    const [wa, wb, sa, sb] = await Promise.allSettled([
      worker("worker-a"),
      worker("worker-b"),
      sidecar(),
      sidecar(),
    ]);
    const ok = <T>(r: PromiseSettledResult<T> | undefined): T[] =>
      r?.status === "fulfilled" ? [r.value] : [];
    // Whatever started is stopped in afterAll, even when another did not start.
    workers = [...ok(wa), ...ok(wb)];
    sidecars = [...ok(sa), ...ok(sb)];
    for (const r of [wa, wb, sa, sb]) if (r?.status === "rejected") throw r.reason;
    inspect = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
  }, 120_000);

  afterAll(async () => {
    if (process.env.PA_DEBUG_DIR)
      for (const w of workers) writeFileSync(join(process.env.PA_DEBUG_DIR, `${w.name}.log`), w.stdout());
    await inspect?.close();
    await Promise.allSettled([...sidecars.map((s) => s.stop()), ...workers.map((w) => w.stop())]);
    if (pgOk) await dropSchema(schema).catch(() => undefined);
    if (redisOk) await dropPrefix(prefix).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${JOBS} jobs alternately to both sidecars, a worker and a sidecar SIGKILLed midway: every accepted job is done, logged exactly once and readable from the survivor`, async () => {
    const engine = createEngine(loadPolicy());
    const needsModel = (r: Record<string, unknown>) =>
      routesToLlm("hybrid", engine.evaluate(parseRequest(r).situation));
    expect(NUANCED.every(needsModel)).toBe(true);
    expect(CLEAR.some(needsModel)).toBe(false);

    const [survivor, doomedSidecar] = sidecars as [ServeChild, ServeChild];
    const [doomedWorker] = workers as [WorkerChild, WorkerChild];
    const accepted: Accepted[] = [];
    let failedOver = 0;
    const submit = async (i: number): Promise<void> => {
      const body = JSON.stringify(requestFor(i));
      const headers = { "content-type": "application/json" };
      const first = i % 2;
      for (const s of first === 1 ? [1, 0] : [0, 1]) {
        const target = sidecars[s] as ServeChild;
        let res: Response;
        try {
          res = await fetch(`${target.url}/v1/jobs`, { method: "POST", headers, body });
        } catch {
          // The sidecar is gone (killed): the load balancer's part, the next sidecar takes the job.
          failedOver++;
          continue;
        }
        expect(res.status).toBe(202);
        const { jobId } = (await res.json()) as { jobId: string };
        accepted.push({ jobId, sidecar: s });
        return;
      }
      throw new Error(`job ${i}: no sidecar took it`);
    };

    // The first half, alternately to both sidecars.
    for (let i = 0; i < JOBS / 2; i++) await submit(i);
    // Midway: some jobs done, and the worker to kill holding one (a job mid-run).
    // A model job it began just now: it has most of an advisory (0.7 s or more) still to run when killed.
    const victim = await until(
      "worker-a just starting a job that needs the model, after some finished",
      async () => {
        const counts = await inspect.getJobCounts("completed");
        if ((counts.completed ?? 0) < (JOBS * 2) / 5) return undefined;
        const active = await inspect.getActive();
        return active.find(
          (j) =>
            j.processedBy === doomedWorker.name &&
            Date.now() - (j.processedOn ?? 0) < 150 &&
            // Not one being finished: once logged, its request is already dropped from Redis.
            j.data.input !== null &&
            needsModel(j.data.input as Record<string, unknown>),
        )?.id;
      },
      60_000,
      10,
    );
    const gone = new Promise((r) => doomedWorker.child.once("exit", r));
    doomedWorker.child.kill("SIGKILL");
    doomedSidecar.child.kill("SIGKILL");
    await gone;
    // Killed mid-job: still active, held by the dead worker, until the stalled-job check finds it.
    const held = await Job.fromId(inspect, victim);
    expect(held?.finishedOn).toBeUndefined();
    // The second half, still alternately: what the dead sidecar cannot take, the survivor does.
    for (let i = JOBS / 2; i < JOBS; i++) await submit(i);
    expect(accepted).toHaveLength(JOBS);
    expect(failedOver).toBeGreaterThan(0);

    // Every accepted job ends done, read from the surviving sidecar (those the dead one took included).
    const results = new Map<string, { decisionId: string; decision: string }>();
    await until(
      "every job done",
      async () => {
        for (const a of accepted) {
          if (results.has(a.jobId)) continue;
          const res = await fetch(`${survivor.url}/v1/jobs/${a.jobId}`);
          expect(res.status).toBe(200);
          const view = (await res.json()) as {
            status: string;
            result?: { decisionId: string; decision: string };
            error?: unknown;
          };
          expect(view.status, JSON.stringify(view.error)).not.toBe("failed");
          if (view.status === "done" && view.result) results.set(a.jobId, view.result);
        }
        return results.size === accepted.length ? true : undefined;
      },
      90_000,
      500,
      async () =>
        `(${results.size} of ${accepted.length} done; queue ${JSON.stringify(await inspect.getJobCounts())}; ` +
        `surviving worker's log: ${(workers[1] as WorkerChild).stdout().slice(-6000)})`,
    );
    for (const a of accepted) expect(results.get(a.jobId)?.decisionId).toBe(a.jobId);
    expect(accepted.filter((a) => a.sidecar === 1)).toHaveLength(JOBS / 4);

    // The job the killed worker held was taken again by the other worker (BullMQ's stalled-job check).
    const retried = await Job.fromId(inspect, victim);
    expect(retried?.attemptsStarted ?? 0).toBeGreaterThanOrEqual(2);
    expect(retried?.processedBy).toBe("worker-b");
    const metrics = await (await fetch(`${survivor.url}/metrics`)).text();
    expect(
      Number(/policy_advisor_shared_queue_stalled_total (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    expect(Number(/policy_advisor_shared_queue_workers (\d+)/.exec(metrics)?.[1])).toBe(1);

    // Logged exactly once each (the log holds nothing else), with the decision the job answered.
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const rows = await client.query<{ decision_id: string; decision: string; n: string }>(
        `SELECT decision_id, MIN(decision) AS decision, COUNT(*) AS n FROM ${schema}.decisions GROUP BY decision_id`,
      );
      expect(rows.rows).toHaveLength(JOBS);
      for (const row of rows.rows) {
        expect(Number(row.n)).toBe(1);
        expect(results.get(row.decision_id)?.decision).toBe(row.decision);
      }
    } finally {
      await client.end();
    }
  }, 180_000);
});
