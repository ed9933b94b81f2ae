import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { loose, post, readSituation } from "./helpers.js";
import { type ModelServer, startModelServer } from "./model-server.js";

/** AuthZEN under the service's limits and metrics, as `serve` builds it, with a slow model (engine llm). */

const evaluation = {
  subject: { type: "user", id: "alice", properties: { trust: readSituation.t3_tensor } },
  action: { name: "read" },
  resource: { type: "docs", id: "public/readme.md" },
  context: { time: readSituation.timestamp },
};

describe("AuthZEN under the queue's limits, counted in the metrics", () => {
  let model: ModelServer;
  let dir: string;
  let svc: RunningService;
  beforeAll(async () => {
    model = await startModelServer(1500);
    dir = mkdtempSync(join(tmpdir(), "pa-authzen-limits-"));
    svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db: join(dir, "decisions.db"),
        engine: "llm",
        llmUrl: model.url,
        llmModel: "slow-model",
        logLevel: "silent",
        cache: "off",
        concurrency: 1,
        queueSize: 0,
      }),
      {},
    );
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
    await model?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a full queue is 429 with Retry-After for an evaluation, and a failed-closed item in a batch", async () => {
    const first = post(`${svc.url}/access/v1/evaluation`, evaluation);
    while (svc.ctx.queue.running < 1) await new Promise((r) => setTimeout(r, 5));
    const refused = await post(`${svc.url}/access/v1/evaluation`, evaluation, { "X-Request-ID": "r-429" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-request-id")).toBe("r-429");
    expect((await refused.json().then(loose)).error.code).toBe("queue_full");
    const batch = await (await post(`${svc.url}/access/v1/evaluations`, { ...evaluation, evaluations: [{}] }))
      .json()
      .then(loose);
    expect(batch.evaluations).toEqual([
      { decision: false, context: { error: expect.objectContaining({ status: 429, code: "queue_full" }) } },
    ]);
    const answered = await (await first).json().then(loose);
    // The test model's allow says "verification": a qualified allow, which stands as an attestation.
    expect(answered.decision).toBe(false);
    expect(answered.context).toMatchObject({ source: "llm", advice: "require_attestation" });

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(
      /policy_advisor_decisions_total\{[^}]*decision="require_attestation"[^}]*source="llm"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /policy_advisor_http_request_duration_seconds_count\{route="\/access\/v1\/evaluation",method="POST",status="429"\} 1/,
    );
    expect(metrics).toMatch(/policy_advisor_errors_total\{cause="queue_full"\} [1-9]/);
  }, 30_000);
});
