import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { makeModel } from "../../src/testing/gguf/model.js";
import { loose, post } from "./helpers.js";

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

describe("serve with an in-process GGUF model (the tiny synthetic one)", () => {
  let dir: string;
  let svc: RunningService;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pa-llama-"));
    const model = join(dir, "tiny.gguf");
    makeModel({ out: model, preset: "tiny" });
    svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db: join(dir, "d.db"),
        engine: "hybrid",
        model,
        // One thread: other test files share the 2 cores, and llama.cpp threads spin at barriers.
        threads: 1,
        sequences: 1,
        mode: "enforce",
        logLevel: "silent",
        deadlineMs: 20_000,
      }),
      {},
    );
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports the loaded model in /ready, /v1/runtime and the metrics", async () => {
    const ready = await (await fetch(`${svc.url}/ready`)).json().then(loose);
    expect(ready.ready).toBe(true);
    expect(ready.checks.model).toContain("tiny.gguf");
    const rt = await (await fetch(`${svc.url}/v1/runtime`)).json().then(loose);
    expect(rt.llm).toMatchObject({ kind: "llama", parallelism: 1 });
    expect(rt.versions.modelSynthetic).toBe(true);
    expect(rt.queue.concurrency).toBe(1);
    expect(rt.cache.enabled).toBe(true);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const load = /policy_advisor_model_load_seconds ([0-9.e-]+)/.exec(metrics);
    expect(Number(load?.[1])).toBeGreaterThan(0);
  });

  it("a nuanced request goes to the model (tokens counted) and is answered and logged", async () => {
    const res = await post(`${svc.url}/v1/advisory`, nuanced);
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    // Random weights: whatever the model says, the guard rails keep the answer within the contract.
    expect(["llm", "engine", "fallback"]).toContain(body.source);
    expect(body.versions.model).toContain("tiny.gguf");
    // The model is the synthetic one (random weights): the decision says so, and so does its log record.
    expect(body.versions.modelSynthetic).toBe(true);
    const logged = await svc.ctx.store.get(body.decisionId);
    expect(logged?.decisionId).toBe(body.decisionId);
    expect(logged?.decision.versions.modelSynthetic).toBe(true);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/policy_advisor_llm_tokens_total\{kind="evaluated"\} [1-9]/);
    expect(metrics).toMatch(/policy_advisor_llm_duration_seconds_count\{outcome="(ok|error)"\} [1-9]/);
  }, 60_000);
});
