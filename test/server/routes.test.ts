import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loose, post, readR6, readSituation, startTestServer, type TestServer } from "./helpers.js";

const adminSituation = {
  action_type: "add_member",
  actor_role: "admin",
  actor_id: "user:frank",
  t3_tensor: { competence: 0.95, reliability: 0.95, integrity: 0.95 },
  resource: "team/core",
  timestamp: "2026-03-03T15:00:00Z",
};

describe("sidecar routes (rules engine, enforce mode)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce", batchMax: 3, bodyLimit: 4096 });
  });
  afterAll(async () => {
    await s.close();
  });

  it("GET /health is ok", async () => {
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json().then(loose)).toEqual({ status: "ok" });
  });

  it("GET /ready reports policy and store", async () => {
    const res = await fetch(`${s.url}/ready`);
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.ready).toBe(true);
    expect(body.checks.store).toBe("ok");
    expect(body.checks.policy).toMatch(/^default@sha256:/);
  });

  it("admin tier is never above advisory even when every tier is enforce", async () => {
    const res = await post(`${s.url}/v1/advisory`, {
      request: adminSituation,
      control: { decision: "deny" },
    });
    const body = await res.json().then(loose);
    expect(body.tier).toBe("admin");
    expect(body.mode).toBe("advisory");
    expect(body.effectiveDecision).toBe("deny");
  });

  it("enforce applies the advice even against the control", async () => {
    const res = await post(`${s.url}/v1/advisory`, { request: readSituation, control: { decision: "deny" } });
    const body = await res.json().then(loose);
    expect(body.mode).toBe("enforce");
    expect(body.decision).toBe("allow");
    expect(body.effectiveDecision).toBe("allow");
    expect((await s.store.get(body.decisionId))?.control).toBe("deny");
  });

  it("envelope errors name request.* and control.* paths", async () => {
    const res = await post(`${s.url}/v1/advisory`, {
      request: { ...readSituation, actor_id: "" },
      control: { decision: "maybe" },
    });
    expect(res.status).toBe(400);
    const paths = (await res.json().then(loose)).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["request.actor_id", "control.decision"]));
  });

  it("400 for a body that is no request, for malformed JSON and for an empty body", async () => {
    const r1 = await post(`${s.url}/v1/advisory`, { hello: "world" });
    expect(r1.status).toBe(400);
    expect((await r1.json().then(loose)).error.code).toBe("invalid_request");
    const r2 = await post(`${s.url}/v1/advisory`, '{"action_type": ');
    expect(r2.status).toBe(400);
    expect((await r2.json().then(loose)).error.code).toBe("invalid_json");
    // Where the JSON breaks, not only that it does.
    const r2b = await post(`${s.url}/v1/advisory`, '{\n  "action_type": "read",\n  "actor_id": "a",\n}');
    const e2b = (await r2b.json().then(loose)).error;
    expect(e2b.code).toBe("invalid_json");
    expect(e2b.message).toMatch(/^the body is not valid JSON: .*position 46 \(line 4, column 1\)$/);
    const proto = await post(`${s.url}/v1/advisory`, '{"__proto__": {"x": 1}}');
    expect(proto.status).toBe(400);
    expect((await proto.json().then(loose)).error.message).toMatch(/__proto__/);
    const r3 = await fetch(`${s.url}/v1/advisory`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(r3.status).toBe(400);
    const r4 = await post(`${s.url}/v1/advisory`, [readSituation]);
    expect(r4.status).toBe(400);
  });

  it("415 for a body that is not JSON", async () => {
    const res = await fetch(`${s.url}/v1/advisory`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "allow me",
    });
    expect(res.status).toBe(415);
    expect((await res.json().then(loose)).error.code).toBe("unsupported_media_type");
    const form = await fetch(`${s.url}/v1/advisory`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=b",
    });
    expect(form.status).toBe(415);
  });

  it("413 for a body over the limit, with no stack trace", async () => {
    const res = await post(`${s.url}/v1/advisory`, { ...readSituation, details: "x".repeat(8000) });
    expect(res.status).toBe(413);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("body_too_large");
    expect(JSON.parse(text).error.message).toBe(
      "the body is larger than the limit of 4096 bytes (4 KiB); send less, or raise the service's --body-limit",
    );
    expect(text).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it("405 with Allow for a known path and another method", async () => {
    const health = await fetch(`${s.url}/health`, { method: "DELETE" });
    expect(health.status).toBe(405);
    expect(health.headers.get("allow")).toBe("GET, HEAD");
    expect(await health.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message: "DELETE is not allowed on /health; it answers GET, HEAD",
      },
    });
    const advisory = await fetch(`${s.url}/v1/advisory`);
    expect(advisory.status).toBe(405);
    expect(advisory.headers.get("allow")).toBe("POST");
    const job = await fetch(`${s.url}/v1/jobs/some-id`, { method: "PUT" });
    expect(job.status).toBe(405);
    expect(job.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(`${s.url}/v1/nothing`, { method: "DELETE" })).status).toBe(404);
  });

  it("messages are in the service's words, not the validation library's", async () => {
    const res = await post(`${s.url}/v1/advisory`, { ...readSituation, t3_tensor: "high", extra: 1 });
    const body = await res.json().then(loose);
    expect(body.error.issues).toContainEqual({
      path: "t3_tensor",
      message: "expected an object, got a string",
    });
    expect(JSON.stringify(body)).not.toMatch(/Invalid input|received/);
  });

  it("404 JSON for an unknown route and an unknown job", async () => {
    const r1 = await fetch(`${s.url}/v2/nothing`);
    expect(r1.status).toBe(404);
    expect((await r1.json().then(loose)).error.code).toBe("not_found");
    const r2 = await fetch(`${s.url}/v1/jobs/does-not-exist`);
    expect(r2.status).toBe(404);
    expect((await r2.json().then(loose)).error.message).toContain("does-not-exist");
  });

  it("409 for a reload when the service was built without a reloadable policy", async () => {
    const res = await post(`${s.url}/v1/admin/reload`, {});
    expect(res.status).toBe(409);
    expect((await res.json().then(loose)).error.code).toBe("not_reloadable");
  });

  it("400 in the contract's format for a path with invalid percent-encoding", async () => {
    const res = await fetch(`${s.url}/v1/jobs/%ZZ`);
    expect(res.status).toBe(400);
    expect((await res.json().then(loose)).error).toMatchObject({
      code: "bad_url",
      message: expect.stringContaining("%ZZ"),
    });
  });

  it("batch answers in order, each item its own result or error", async () => {
    const res = await post(`${s.url}/v1/advisory/batch`, {
      requests: [readSituation, { ...readSituation, t3_tensor: { competence: 5 } }, { request: readR6 }],
    });
    expect(res.status).toBe(200);
    const { results } = await res.json().then(loose);
    expect(results).toHaveLength(3);
    expect(results[0].decision).toBe("allow");
    expect(results[1].error.code).toBe("invalid_request");
    expect(results[1].error.issues.map((i: { path: string }) => i.path)).toContain(
      "requests[1].t3_tensor.competence",
    );
    expect(results[2].decision).toBe("allow");
    expect(results[0].decisionId).not.toBe(results[2].decisionId);
  });

  it("batch refuses more than --batch-max and a body without requests", async () => {
    const res = await post(`${s.url}/v1/advisory/batch`, {
      requests: [readSituation, readSituation, readSituation, readSituation],
    });
    expect(res.status).toBe(400);
    expect((await res.json().then(loose)).error.issues[0]).toMatchObject({
      path: "requests",
      message: expect.stringContaining("at most 3"),
    });
    const empty = await post(`${s.url}/v1/advisory/batch`, { requests: [] });
    expect(empty.status).toBe(400);
    const none = await post(`${s.url}/v1/advisory/batch`, readSituation);
    expect(none.status).toBe(400);
  });

  it("jobs: 202 with an id, then the decision under that id", async () => {
    const res = await post(`${s.url}/v1/jobs`, readSituation);
    expect(res.status).toBe(202);
    const { jobId, status } = await res.json().then(loose);
    expect(status).toBe("pending");
    expect(res.headers.get("location")).toBe(`/v1/jobs/${jobId}`);
    let job: { status: string; result?: { decisionId: string; decision: string } } = { status: "pending" };
    for (let i = 0; i < 50 && job.status === "pending"; i++) {
      job = await (await fetch(`${s.url}/v1/jobs/${jobId}`)).json().then(loose);
      if (job.status === "pending") await new Promise((r) => setTimeout(r, 20));
    }
    expect(job.status).toBe("done");
    expect(job.result?.decisionId).toBe(jobId);
    expect(job.result?.decision).toBe("allow");
    expect((await s.store.get(jobId))?.decision.decision).toBe("allow");
  });

  it("jobs: 400 for a bad request, before any job exists", async () => {
    const res = await post(`${s.url}/v1/jobs`, { ...readSituation, actor_role: 7 });
    expect(res.status).toBe(400);
    expect((await res.json().then(loose)).error.issues[0].path).toBe("actor_role");
  });

  it("GET /metrics exposes decisions, latency by route and by source, cache and queue", async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(
      /policy_advisor_decisions_total\{decision="allow",risk="low",tier="read",source="(engine|cache)",mode="enforce"\} \d+/,
    );
    expect(text).toMatch(
      /policy_advisor_http_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/advisory",method="POST",status="200"\}/,
    );
    expect(text).toContain("policy_advisor_decision_duration_seconds_bucket");
    expect(text).toContain("policy_advisor_cache_hits_total");
    expect(text).toContain("policy_advisor_queue_depth");
    expect(text).toContain("policy_advisor_queue_wait_seconds_bucket");
    expect(text).toMatch(/policy_advisor_errors_total\{cause="invalid_request"\} [1-9]/);
    expect(text).toMatch(/policy_advisor_errors_total\{cause="body_too_large"\} [1-9]/);
  });

  it("GET /v1/runtime reports cache, queue, llm, circuit", async () => {
    const body = await (await fetch(`${s.url}/v1/runtime`)).json().then(loose);
    expect(body.cache.enabled).toBe(true);
    expect(body.cache.hits + body.cache.misses).toBeGreaterThan(0);
    expect(body.queue).toMatchObject({ depth: 0, running: 0, capacity: 256, concurrency: 4 });
    expect(body.llm).toBeNull();
    expect(body.circuit).toBeNull();
    expect(body.modes.admin).toBe("advisory");
  });

  it("GET /openapi.json describes every route with the request schemas", async () => {
    const doc = await (await fetch(`${s.url}/openapi.json`)).json().then(loose);
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/v1/advisory",
      "/v1/advisory/batch",
      "/v1/jobs",
      "/v1/jobs/{id}",
      "/health",
      "/ready",
      "/metrics",
      "/v1/runtime",
    ]) {
      expect(doc.paths).toHaveProperty(p);
    }
    const body = JSON.stringify(doc.paths["/v1/advisory"].post.requestBody);
    expect(body).toContain("t3_tensor");
    expect(body).toContain("trustState");
  });
});

describe("shadow mode", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "shadow" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("answers with the control at once and logs the advice off the critical path", async () => {
    const res = await post(`${s.url}/v1/advisory`, { request: readSituation, control: { decision: "deny" } });
    const body = await res.json().then(loose);
    expect(body.mode).toBe("shadow");
    expect(body.effectiveDecision).toBe("deny");
    expect(body.decision).toBe("allow");
    expect(body.deferred).toBe(true);
    await s.ctx.service.drain();
    const logged = await s.store.get(body.decisionId);
    expect(logged?.control).toBe("deny");
    expect(logged?.effectiveDecision).toBe("deny");
    expect(logged?.decision.decision).toBe("allow");
  });

  it("without a control, decides synchronously and the advice is what applies", async () => {
    const body = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(body.mode).toBe("shadow");
    expect(body.effectiveDecision).toBe("allow");
    expect(body.deferred).toBeUndefined();
    expect(await s.store.get(body.decisionId)).toBeDefined();
  });
});

describe("advisory mode", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "advisory" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("the control applies when given, else the advice", async () => {
    const a = await (
      await post(`${s.url}/v1/advisory`, {
        request: readSituation,
        control: { decision: "require_attestation" },
      })
    )
      .json()
      .then(loose);
    expect(a).toMatchObject({
      mode: "advisory",
      decision: "allow",
      effectiveDecision: "require_attestation",
    });
    const b = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(b).toMatchObject({ mode: "advisory", effectiveDecision: "allow" });
  });
});

describe("when the decision log fails", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("/ready is 503 with the reason, and a decision is a 503 (not acknowledged), never a 500", async () => {
    await s.store.close();
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(503);
    const body = await ready.json().then(loose);
    expect(body.ready).toBe(false);
    expect(body.reason).toContain("decision log");
    const res = await post(`${s.url}/v1/advisory`, readSituation);
    expect(res.status).toBe(503);
    expect((await res.json().then(loose)).error.code).toBe("store_unavailable");
  });
});
