import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PolicyAdvisorClient } from "../../src/client/index.js";
import { type ServeConfigInput, ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { loose, post, readSituation } from "./helpers.js";
import { type ModelServer, startModelServer } from "./model-server.js";

/** The whole service as `serve` builds it (engine llm against a real, slow model server). */
async function serve(
  model: ModelServer,
  dir: string,
  extra: Partial<ServeConfigInput>,
): Promise<RunningService> {
  return startService(
    ServeConfigSchema.parse({
      port: 0,
      db: join(dir, `d-${Math.random().toString(36).slice(2)}.db`),
      engine: "llm",
      llmUrl: model.url,
      llmModel: "slow-model",
      mode: "enforce",
      logLevel: "silent",
      cache: "off",
      ...extra,
    }),
    {},
  );
}

describe("patterns with a slow model (engine llm)", () => {
  let model: ModelServer;
  let dir: string;
  let svc: RunningService | undefined;
  beforeAll(async () => {
    model = await startModelServer(100);
    dir = mkdtempSync(join(tmpdir(), "pa-llm-"));
  });
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });
  afterAll(async () => {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers with the model's advice and counts its tokens", async () => {
    model.delayMs = 50;
    svc = await serve(model, dir, {});
    const body = await (await post(`${svc.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(body.source).toBe("llm");
    expect(body.versions.model).toBe("slow-model");
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/policy_advisor_llm_tokens_total\{kind="generated"\} 80/);
    expect(metrics).toMatch(/policy_advisor_llm_duration_seconds_count\{outcome="ok"\} 1/);
    expect(metrics).toMatch(/policy_advisor_model_load_seconds \d/);
    const rt = await (await fetch(`${svc.url}/v1/runtime`)).json().then(loose);
    expect(rt.llm).toMatchObject({ kind: "openai", model: "slow-model" });
    expect(rt.circuit).toBe("closed");
  });

  it("with a model the cache is on by default: a repeat is answered from it, without the model", async () => {
    model.delayMs = 2000;
    svc = await serve(model, dir, { cache: "auto" });
    const before = model.requests;
    const first = await (await post(`${svc.url}/v1/advisory`, readSituation)).json().then(loose);
    const t0 = performance.now();
    const again = await (await post(`${svc.url}/v1/advisory`, { ...readSituation, request_id: "other" }))
      .json()
      .then(loose);
    // Far below the model's 2 s: the second answer did not wait for the model.
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(first.source).toBe("llm");
    expect(again.source).toBe("cache");
    expect(again.decision).toBe(first.decision);
    expect(model.requests - before).toBe(1);
  });

  it("past the deadline: the fail-closed fallback, marked, logged, in time", async () => {
    model.delayMs = 3000;
    svc = await serve(model, dir, { deadlineMs: 300 });
    const started = performance.now();
    const res = await post(`${svc.url}/v1/advisory`, readSituation);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body).toMatchObject({
      source: "fallback",
      fallbackCause: "deadline",
      decision: "require_attestation",
    });
    expect(body.reasoning.context).toContain("deadline");
    expect(elapsed).toBeLessThan(2000);
    expect((await svc.ctx.store.get(body.decisionId))?.decision.fallbackCause).toBe("deadline");
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/policy_advisor_errors_total\{cause="deadline"\} 1/);
    expect(metrics).toMatch(/policy_advisor_decisions_total\{[^}]*source="fallback"[^}]*\} 1/);
  });

  it("X-Deadline-Ms shortens the deadline for one request, never lengthens it; a bad value is a 400", async () => {
    // Wide margins: the model answers after 4 s and the service's own deadline is 10 s, so an answer
    // well before 4 s can only come from the 200 ms header deadline, even on a loaded CI machine.
    model.delayMs = 4000;
    svc = await serve(model, dir, { deadlineMs: 10_000 });
    const t0 = performance.now();
    const res = await post(`${svc.url}/v1/advisory`, readSituation, { "x-deadline-ms": "200" });
    expect(performance.now() - t0).toBeLessThan(3500);
    expect(await res.json().then(loose)).toMatchObject({ source: "fallback", fallbackCause: "deadline" });
    const bad = await post(`${svc.url}/v1/advisory`, readSituation, { "x-deadline-ms": "soon" });
    expect(bad.status).toBe(400);
    expect((await bad.json().then(loose)).error.issues[0].path).toBe("headers.x-deadline-ms");
    const client = new PolicyAdvisorClient({ baseUrl: svc.url });
    expect((await client.advise(readSituation, { deadlineMs: 100 })).fallbackCause).toBe("deadline");
  });

  it("a full queue answers 429 with Retry-After at once, never hangs; jobs too", async () => {
    model.delayMs = 1500;
    svc = await serve(model, dir, { concurrency: 1, queueSize: 1, deadlineMs: 10_000 });
    const url = svc.url;
    const first = post(`${url}/v1/advisory`, readSituation);
    // Let the first take the only slot before the second queues behind it.
    while (svc.ctx.queue.running < 1) await new Promise((r) => setTimeout(r, 5));
    const second = post(`${url}/v1/advisory`, readSituation);
    while (svc.ctx.queue.waiting < 1) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    const third = await post(`${url}/v1/advisory`, readSituation);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await third.json().then(loose)).error.code).toBe("queue_full");
    const job = await post(`${url}/v1/jobs`, readSituation);
    expect(job.status).toBe(429);
    expect(job.headers.get("retry-after")).toBeTruthy();
    const rt = await (await fetch(`${url}/v1/runtime`)).json().then(loose);
    expect(rt.queue).toMatchObject({ depth: 1, running: 1, capacity: 1, concurrency: 1 });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/policy_advisor_queue_depth 1/);
    expect(metrics).toMatch(/policy_advisor_errors_total\{cause="queue_full"\} 2/);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/policy_advisor_queue_wait_seconds_count [1-9]/);
  });

  it("shadow mode answers with the control at once; advice is logged later, the rules' verdict when the queue is full", async () => {
    model.delayMs = 3000;
    svc = await serve(model, dir, { mode: "shadow", concurrency: 1, queueSize: 0 });
    const body = { request: readSituation, control: { decision: "deny" } };
    const t0 = performance.now();
    const a = await (await post(`${svc.url}/v1/advisory`, body)).json().then(loose);
    const b = await (await post(`${svc.url}/v1/advisory`, body)).json().then(loose);
    expect(performance.now() - t0).toBeLessThan(2000);
    for (const x of [a, b])
      expect(x).toMatchObject({ mode: "shadow", effectiveDecision: "deny", deferred: true });
    await svc.ctx.service.drain();
    const loggedA = await svc.ctx.store.get(a.decisionId);
    const loggedB = await svc.ctx.store.get(b.decisionId);
    expect(loggedA?.decision.source).toBe("llm");
    expect(loggedA?.control).toBe("deny");
    expect(loggedB?.decision.source).toBe("engine");
    expect(loggedB?.effectiveDecision).toBe("deny");
  });

  it("a waiting request that passed its deadline frees its place in the queue at once", async () => {
    model.delayMs = 1500;
    svc = await serve(model, dir, { concurrency: 1, queueSize: 1, deadlineMs: 10_000 });
    const url = svc.url;
    const first = post(`${url}/v1/advisory`, readSituation);
    while (svc.ctx.queue.running < 1) await new Promise((r) => setTimeout(r, 5));
    const impatient = await post(`${url}/v1/advisory`, readSituation, { "x-deadline-ms": "150" });
    expect(await impatient.json().then(loose)).toMatchObject({
      source: "fallback",
      fallbackCause: "deadline",
    });
    expect(svc.ctx.queue.waiting).toBe(0);
    const next = post(`${url}/v1/advisory`, readSituation);
    while (svc.ctx.queue.waiting < 1) await new Promise((r) => setTimeout(r, 5));
    expect((await post(`${url}/v1/advisory`, readSituation)).status).toBe(429);
    expect((await first).status).toBe(200);
    expect((await next).status).toBe(200);
  });

  it("an async job is pending while the model works, then done", async () => {
    model.delayMs = 600;
    svc = await serve(model, dir, {});
    const { jobId } = await (await post(`${svc.url}/v1/jobs`, readSituation)).json().then(loose);
    const pending = await (await fetch(`${svc.url}/v1/jobs/${jobId}`)).json().then(loose);
    expect(pending.status).toBe("pending");
    let job = pending;
    for (let i = 0; i < 100 && job.status === "pending"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await (await fetch(`${svc.url}/v1/jobs/${jobId}`)).json().then(loose);
    }
    expect(job.status).toBe("done");
    expect(job.result).toMatchObject({ decisionId: jobId, source: "llm" });
  });

  it("an async job with X-Deadline-Ms is answered by the fail-closed fallback once the deadline passes", async () => {
    model.delayMs = 2000;
    svc = await serve(model, dir, {});
    const res = await post(`${svc.url}/v1/jobs`, readSituation, { "x-deadline-ms": "200" });
    expect(res.status).toBe(202);
    const { jobId } = await res.json().then(loose);
    let job = await (await fetch(`${svc.url}/v1/jobs/${jobId}`)).json().then(loose);
    for (let i = 0; i < 100 && job.status === "pending"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await (await fetch(`${svc.url}/v1/jobs/${jobId}`)).json().then(loose);
    }
    expect(job.status).toBe("done");
    expect(job.result).toMatchObject({ decisionId: jobId, source: "fallback", fallbackCause: "deadline" });
    const bad = await post(`${svc.url}/v1/jobs`, readSituation, { "x-deadline-ms": "soon" });
    expect(bad.status).toBe(400);
    expect((await bad.json().then(loose)).error.issues[0].path).toBe("headers.x-deadline-ms");
  });
});
