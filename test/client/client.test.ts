import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyAdvisorClient, PolicyAdvisorError } from "../../src/client/index.js";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { readR6, readSituation, startTestServer, type TestServer } from "../server/helpers.js";
import { type ModelServer, startModelServer } from "../server/model-server.js";

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("TypeScript client against the real sidecar", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "advisory" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("advises on a situation and on an R6Request, with and without a control", async () => {
    const client = new PolicyAdvisorClient({ baseUrl: s.url });
    const a = await client.advise(readSituation);
    expect(a).toMatchObject({ decision: "allow", mode: "advisory", effectiveDecision: "allow" });
    const b = await client.advise(readR6, { control: "deny" });
    expect(b).toMatchObject({ decision: "allow", effectiveDecision: "deny" });
    expect(await client.health()).toBe(true);
    expect((await client.ready()).ready).toBe(true);
  });

  it("drops a base URL's trailing slashes, quickly even after a long run of slashes", async () => {
    expect(await new PolicyAdvisorClient({ baseUrl: `${s.url}///` }).health()).toBe(true);
    // Was quadratic (/\/+$/ rescans the run from each slash): about 4 s for this URL on the 2-core dev machine.
    const started = performance.now();
    new PolicyAdvisorClient({ baseUrl: `${s.url}${"/".repeat(60_000)}x/` });
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("a bad request is a PolicyAdvisorError naming the field, not retried, not failed closed", async () => {
    const client = new PolicyAdvisorClient({ baseUrl: s.url, failClosed: "deny", retries: 3 });
    const bad = { ...readSituation, t3_tensor: { competence: 2, reliability: 0.5, integrity: 0.5 } };
    const err = await client.advise(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyAdvisorError);
    expect((err as PolicyAdvisorError).status).toBe(400);
    expect((err as PolicyAdvisorError).issues[0]?.path).toBe("t3_tensor.competence");
  });

  it("batch and async jobs", async () => {
    const client = new PolicyAdvisorClient({ baseUrl: s.url });
    const results = await client.adviseBatch([
      readSituation,
      { request: readR6, control: { decision: "deny" } },
    ]);
    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ effectiveDecision: "deny" });
    const jobId = await client.submitJob(readSituation);
    const answer = await client.waitForJob(jobId, { pollMs: 20, timeoutMs: 5000 });
    expect(answer.decisionId).toBe(jobId);
    // A UUIDv7, like every decision id.
    expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("service down: the caller's fail-closed answer, or the error when none was chosen", async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const closed = new PolicyAdvisorClient({
      baseUrl: url,
      failClosed: "require_attestation",
      retries: 1,
      backoffMs: 10,
    });
    const answer = await closed.advise(readSituation);
    expect(answer).toMatchObject({
      decision: "require_attestation",
      effectiveDecision: "require_attestation",
      source: "fallback",
      fallbackCause: "service_unavailable",
    });
    const open = new PolicyAdvisorClient({ baseUrl: url, retries: 0 });
    const err = await open.advise(readSituation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyAdvisorError);
    expect((err as PolicyAdvisorError).status).toBe(0);
    expect((err as PolicyAdvisorError).code).toBe("unreachable");
    expect(await open.health()).toBe(false);
  });
});

describe("TypeScript client: timeout and retry on 429 (slow model)", () => {
  let model: ModelServer;
  let dir: string;
  let svc: RunningService;
  beforeAll(async () => {
    model = await startModelServer(700);
    dir = mkdtempSync(join(tmpdir(), "pa-client-"));
    svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db: join(dir, "d.db"),
        engine: "llm",
        llmUrl: model.url,
        llmModel: "slow-model",
        mode: "enforce",
        logLevel: "silent",
        cache: "off",
        concurrency: 1,
        queueSize: 0,
      }),
      {},
    );
  });
  afterAll(async () => {
    await svc.close();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a 429 is retried after Retry-After and then answered", async () => {
    const busy = new PolicyAdvisorClient({ baseUrl: svc.url, retries: 0 });
    const first = busy.advise(readSituation);
    while (svc.ctx.queue.running < 1) await new Promise((r) => setTimeout(r, 5));
    const rejected = await busy.advise(readSituation).catch((e: unknown) => e);
    expect((rejected as PolicyAdvisorError).status).toBe(429);
    expect((rejected as PolicyAdvisorError).retryAfterSeconds).toBeGreaterThanOrEqual(1);

    const patient = new PolicyAdvisorClient({ baseUrl: svc.url, retries: 3, backoffMs: 50 });
    const started = Date.now();
    const answer = await patient.advise(readSituation);
    expect(answer.source).toBe("llm");
    // It waited for the Retry-After (at least a second) rather than hammering the service.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await first;
  });

  it("a timeout is an error with code timeout, or the fail-closed answer", async () => {
    const impatient = new PolicyAdvisorClient({ baseUrl: svc.url, timeoutMs: 150, retries: 0 });
    const err = await impatient.advise(readSituation).catch((e: unknown) => e);
    expect((err as PolicyAdvisorError).code).toBe("timeout");
    await new Promise((r) => setTimeout(r, 800));
    const closed = new PolicyAdvisorClient({
      baseUrl: svc.url,
      timeoutMs: 150,
      retries: 0,
      failClosed: "deny",
    });
    expect((await closed.advise(readSituation)).effectiveDecision).toBe("deny");
    await new Promise((r) => setTimeout(r, 800));
  });
});
