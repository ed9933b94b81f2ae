import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import type { Advisor, EngineKind } from "../../src/advisor/types.js";
import { openLlmBackend } from "../../src/llm/factory.js";
import { loadPolicy } from "../../src/policy/load.js";
import { parseQueueUrl, QUEUE_NAME } from "../../src/queue/connection.js";
import { type QueueWorker, startQueueWorker } from "../../src/queue/worker.js";
import { ConfigError, type ServeConfigInput, ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { Masker, openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { externalAvailable } from "../helpers/external.js";
import { loose, post, readSituation } from "../server/helpers.js";
import { type ModelServer, startModelServer } from "../server/model-server.js";
import { dropSchema, PG_URL, postgresUp, uniqueSchema } from "../store/fixtures.js";
import { dropPrefix, queueUrl, REDIS_URL, redisUp, uniquePrefix, until } from "./helpers.js";

/**
 * The shared queue on one machine: sidecars without a model (`serve --queue`) and a worker over an
 * OpenAI-compatible model server, all real (Redis, PostgreSQL, HTTP), in this process for speed.
 */
const redisOk = externalAvailable("Redis", await redisUp(), `no server at ${REDIS_URL}`);
const pgOk = externalAvailable("PostgreSQL", await postgresUp(), `no server at ${PG_URL}`);

/** An off-hours commit against a stated pattern: the rules call it nuanced, so hybrid asks the model. */
const nuanced = {
  action_type: "commit",
  actor_role: "developer",
  actor_id: "user:diana",
  t3_tensor: { competence: 0.9, reliability: 0.85, integrity: 0.9 },
  timestamp: "2026-02-02T03:30:00Z",
  team_context: "Team typically works 9-5 EST",
  recent_history: "Diana never commits outside business hours",
};
/** The same, by another actor each time: nothing is answered from the sidecar's cache. */
let actors = 0;
const fresh = () => ({ ...nuanced, actor_id: `user:diana${++actors}` });

const silent = pino({ level: "silent" });

describe.skipIf(!redisOk || !pgOk)("the shared queue (serve --queue, policy-advisor worker)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pa-queue-"));
  const schema = uniqueSchema();
  const db = `${PG_URL}?schema=${schema}`;
  const prefixes: string[] = [];
  const services: RunningService[] = [];
  let model: ModelServer;
  let workerStore: DecisionStore;
  let worker: QueueWorker | null = null;
  let a: RunningService;
  let b: RunningService;
  let inspect: Queue;
  const prefix = uniquePrefix();
  prefixes.push(prefix);

  const serve = async (input: Partial<ServeConfigInput>, env: NodeJS.ProcessEnv = {}) => {
    const svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db,
        engine: "hybrid",
        mode: "enforce",
        logLevel: "silent",
        rateLimit: "off",
        queue: queueUrl(prefix),
        ...input,
      }),
      env,
    );
    services.push(svc);
    return svc;
  };

  const startWorker = async (target = prefix): Promise<QueueWorker> => {
    const llm = await openLlmBackend({ llmUrl: model.url, llmModel: "slow-model" });
    const policy = loadPolicy();
    const advisors = Object.fromEntries(
      (["rules", "llm", "hybrid"] as const).map((engine) => [engine, createAdvisor({ policy, engine, llm })]),
    ) as Record<EngineKind, Advisor>;
    return startQueueWorker({
      target: parseQueueUrl(queueUrl(target)),
      advisors,
      store: workerStore,
      masker: new Masker([]),
      concurrency: 1,
      lockMs: 5000,
      maxStalls: 2,
      name: "test-worker",
      log: silent,
    });
  };

  const jobCount = async (): Promise<number> =>
    Object.values(await inspect.getJobCounts()).reduce((n, v) => n + v, 0);

  beforeAll(async () => {
    model = await startModelServer(50);
    workerStore = await openStore(db);
    a = await serve({});
    b = await serve({});
    worker = await startWorker();
    inspect = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
  }, 60_000);

  afterAll(async () => {
    await inspect?.close();
    await worker?.close();
    for (const s of services) await s.close().catch(() => undefined);
    await workerStore?.close();
    await model?.close();
    for (const p of prefixes) await dropPrefix(p).catch(() => undefined);
    if (pgOk) await dropSchema(schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a request the rules decide alone is answered by the sidecar and never touches the queue", async () => {
    const before = await jobCount();
    const res = await post(`${a.url}/v1/advisory`, readSituation);
    expect(res.status).toBe(200);
    expect(loose(await res.json()).source).toBe("engine");
    expect(await jobCount()).toBe(before);
  });

  it("a request that needs the model goes to a worker and back within its deadline; the sidecar logs it", async () => {
    const asked = model.requests;
    const res = await post(`${a.url}/v1/advisory`, fresh(), { "x-deadline-ms": "5000" });
    expect(res.status).toBe(200);
    const body = loose(await res.json());
    expect(body.source).not.toBe("fallback");
    expect(body.versions.model).toBe("slow-model");
    expect(model.requests).toBe(asked + 1);
    expect((await a.ctx.store.get(body.decisionId))?.decision.source).toBe(body.source);
  });

  it("a job accepted by one sidecar is decided and logged by a worker and read from another sidecar", async () => {
    const res = await post(`${a.url}/v1/jobs`, fresh());
    expect(res.status).toBe(202);
    const { jobId } = loose(await res.json());
    const view = await until(
      "the job done",
      async () => {
        const v = loose(await (await fetch(`${b.url}/v1/jobs/${jobId}`)).json());
        return v.status === "pending" ? undefined : v;
      },
      15_000,
    );
    expect(view.status).toBe("done");
    expect(view.result).toMatchObject({ decisionId: jobId, mode: "enforce" });
    expect(view.result.effectiveDecision).toBe(view.result.decision);
    const logged = await b.ctx.store.get(jobId);
    expect(logged?.decision.decision).toBe(view.result.decision);
    expect(loose(await (await fetch(`${b.url}/v1/jobs/no-such-job`)).json()).error.code).toBe("not_found");
  });

  it("past its deadline a job is answered by the fail-closed fallback, not run; a caller waits no longer", async () => {
    model.delayMs = 1500;
    try {
      const asked = model.requests;
      // The worker's one slot is busy with this one for 1.5 s ...
      const busy = loose(await (await post(`${a.url}/v1/jobs`, fresh())).json()).jobId as string;
      await until("the worker busy", async () => (model.requests > asked ? true : undefined), 10_000, 20);
      // ... so these two wait past their deadlines: an async job (X-Deadline-Ms) and a synchronous call.
      const late = loose(await (await post(`${a.url}/v1/jobs`, fresh(), { "x-deadline-ms": "200" })).json())
        .jobId as string;
      const started = performance.now();
      const sync = loose(
        await (await post(`${b.url}/v1/advisory`, fresh(), { "x-deadline-ms": "300" })).json(),
      );
      expect(performance.now() - started).toBeLessThan(1400);
      expect(sync).toMatchObject({ source: "fallback", fallbackCause: "deadline" });
      const done = async (id: string) =>
        until(
          `job ${id} done`,
          async () => {
            const v = loose(await (await fetch(`${a.url}/v1/jobs/${id}`)).json());
            return v.status === "pending" ? undefined : v;
          },
          15_000,
        );
      expect((await done(busy)).result.source).not.toBe("fallback");
      const expired = await done(late);
      expect(expired.status).toBe("done");
      expect(expired.result).toMatchObject({ source: "fallback", decisionId: late });
      expect(expired.result.fallbackCause).toMatch(/^deadline/);
      expect(expired.result.decision).not.toBe("allow");
      // Logged as answered, and the model was asked for the busy job only.
      expect((await a.ctx.store.get(late))?.decision.source).toBe("fallback");
      expect(model.requests).toBe(asked + 1);
    } finally {
      model.delayMs = 50;
    }
  }, 30_000);

  it("/metrics and /v1/runtime show the queue: depth, wait, workers, stalls and retries", async () => {
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/^policy_advisor_shared_queue_workers 1$/m);
    expect(metrics).toMatch(/^policy_advisor_shared_queue_jobs\{state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^policy_advisor_shared_queue_stalled_total 0$/m);
    expect(metrics).toMatch(/^policy_advisor_shared_queue_retries_total 0$/m);
    expect(metrics).toMatch(/^policy_advisor_shared_queue_wait_seconds_count [1-9]/m);
    const rt = loose(await (await fetch(`${b.url}/v1/runtime`)).json());
    expect(rt.sharedQueue).toMatchObject({ workers: 1, waiting: 0, capacity: 1000, perCaller: 250 });
    expect(rt.sharedQueue.completed).toBeGreaterThan(0);
    expect(rt.jobs.finished).toBeGreaterThan(0);
    const ready = loose(await (await fetch(`${a.url}/ready`)).json());
    expect(ready.checks.queue).toMatch(/: 1 worker$/);
  });

  it("with no worker alive, what needs the model fails closed at once with the cause; /ready says so", async () => {
    await worker?.close();
    worker = null;
    await until(
      "the worker gone",
      async () => ((await inspect.getWorkersCount()) === 0 ? true : undefined),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1100));
    const started = performance.now();
    const res = await post(`${a.url}/v1/advisory`, fresh());
    expect(performance.now() - started).toBeLessThan(3000);
    const body = loose(await res.json());
    expect(body).toMatchObject({
      source: "fallback",
      fallbackCause: "no_worker",
      decision: "require_attestation",
    });
    expect(body.reasoning.context).toMatch(/No policy-interpreter worker is connected/);
    const ready = await fetch(`${a.url}/ready`);
    expect(ready.status).toBe(200);
    const r = loose(await ready.json());
    expect(r.checks.queue).toMatch(/: 0 workers$/);
    expect(r.warnings.join(" ")).toMatch(/no worker is connected to the shared queue/);
    // Rules-only answers go on as before.
    expect(loose(await (await post(`${a.url}/v1/advisory`, readSituation)).json()).source).toBe("engine");
  });

  it("bounded: one caller may not hold more than its share, and a full queue answers 429 with Retry-After", async () => {
    const own = uniquePrefix();
    prefixes.push(own);
    const tokens = join(dir, "tokens");
    const one = randomBytes(16).toString("hex");
    const two = randomBytes(16).toString("hex");
    writeFileSync(tokens, `caller ${one} team-one\ncaller ${two} team-two\n`);
    const c = await serve({ queue: queueUrl(own), queueMax: 3, queuePerCaller: 2, tokensFile: tokens });
    const job = (token: string) => post(`${c.url}/v1/jobs`, fresh(), { authorization: `Bearer ${token}` });
    expect((await job(one)).status).toBe(202);
    expect((await job(one)).status).toBe(202);
    const third = await job(one);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(loose(await third.json()).error).toMatchObject({ code: "caller_queue_full" });
    // Another caller is not held back by the first one's jobs ...
    expect((await job(two)).status).toBe(202);
    // ... until the queue itself is full.
    const full = await job(two);
    expect(full.status).toBe(429);
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(loose(await full.json()).error.code).toBe("queue_full");
    // A worker drains them (nothing accepted is lost), and frees the first caller's slots.
    const drain = await startWorker(own);
    try {
      const ownQueue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: own });
      await until(
        "the three jobs done",
        async () => ((await ownQueue.getJobCounts("completed")).completed === 3 ? true : undefined),
        15_000,
      );
      await ownQueue.close();
      expect((await job(one)).status).toBe(202);
    } finally {
      await drain.close();
    }
  }, 30_000);

  it("refuses to start with a queue it cannot reach or a URL that is not Redis's, naming it", async () => {
    await expect(serve({ queue: "redis://127.0.0.1:1" })).rejects.toThrow(
      /--queue redis:\/\/127\.0\.0\.1:1: cannot connect: .*ECONNREFUSED/,
    );
    await expect(serve({ queue: "redis://127.0.0.1:6379/abc" })).rejects.toThrow(ConfigError);
    expect(() => ServeConfigSchema.parse({ queue: "http://127.0.0.1:6379" })).toThrow(/expected a Redis URL/);
  });
});
