import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import type { Advisor } from "../../src/advisor/types.js";
import { CircuitBreakerBackend } from "../../src/llm/circuit.js";
import { createOpenAiBackend } from "../../src/llm/openai/index.js";
import { buildTestApp, type TestApp } from "../server/helpers.js";
import { type ModelBehaviour, type ModelServer, startModelServer } from "./model-server.js";

/**
 * Model faults against a real local chat-completions server: each ends in the fail-closed answer within
 * the deadline; repeated failures open the circuit breaker, which /ready, /v1/runtime and /metrics show,
 * and which closes again once the model recovers.
 */

const DEADLINE_MS = 400;
// Scheduling slack on a loaded 2-core CI machine; the model's hang is far longer than deadline + slack.
const SLACK_MS = 1200;

/** The rules allow this one (a member reading public docs in working hours). */
const allowed = {
  action_type: "read",
  actor_role: "member",
  actor_id: "user:alice",
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
  timestamp: "2026-03-03T15:00:00Z",
};
/** The rules deny this one (a developer deleting a team), but not as a hard deny only when the role has no rule. */
const denied = {
  action_type: "delete_team",
  actor_role: "developer",
  actor_id: "user:bob",
  t3_tensor: { competence: 0.8, reliability: 0.9, integrity: 0.95 },
  resource: "team:main",
};

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer("strict_deny");
});
afterAll(async () => {
  await model?.close();
});

function llmAdvisor(
  threshold = 1000,
  cooldownMs = 60_000,
  timeoutMs = 5000,
): { advisor: Advisor; circuit: CircuitBreakerBackend } {
  const backend = createOpenAiBackend({
    baseUrl: model.url,
    model: "fault-model",
    maxRetries: 0,
    timeoutMs,
    responseFormat: "off",
  });
  const circuit = new CircuitBreakerBackend(backend, { failureThreshold: threshold, cooldownMs });
  return { advisor: createAdvisor({ engine: "llm", llm: circuit }), circuit };
}

const FAULTS: ModelBehaviour[] = [
  "hang",
  "error_500",
  "garbage",
  "forbidden_decision",
  "die_mid_answer",
  "empty_choices",
];

describe.each(FAULTS)("model fault: %s", (fault) => {
  let advisor: Advisor;
  beforeAll(() => {
    model.behaviour = fault;
    advisor = llmAdvisor().advisor;
  });
  afterAll(async () => {
    await advisor.close();
  });

  it("a request the rules allow fails closed to require_attestation within the deadline", async () => {
    const t0 = performance.now();
    const d = await advisor.advise(allowed, { deadlineMs: DEADLINE_MS });
    const ms = performance.now() - t0;
    expect(d.source).toBe("fallback");
    expect(d.decision).toBe("require_attestation");
    expect(d.fallbackCause).toBeTruthy();
    expect(d.reasoning.context).toMatch(/fails closed/);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
  });

  it("a request the rules deny stays denied", async () => {
    const d = await advisor.advise(denied, { deadlineMs: DEADLINE_MS });
    expect(d.decision).toBe("deny");
  });
});

describe("circuit breaker in the running service", () => {
  let srv: TestApp;
  let circuit: CircuitBreakerBackend;
  afterEach(() => {
    model.behaviour = "strict_deny";
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("opens after repeated failures (shown in /ready, /v1/runtime, /metrics) and closes when the model recovers", async () => {
    const built = llmAdvisor(3, 300);
    circuit = built.circuit;
    srv = await buildTestApp({
      advisor: built.advisor,
      llm: circuit,
      circuit: () => circuit.state,
      deadlineMs: DEADLINE_MS,
      // Every request must reach the model path; a cached answer would hide the circuit.
      cache: { enabled: false, ttlSeconds: 1, size: 1 },
    });
    const ask = async () => {
      const res = await srv.app.inject({ method: "POST", url: "/v1/advisory", payload: allowed });
      expect(res.statusCode).toBe(200);
      return res.json() as { decision: string; source: string; fallbackCause?: string };
    };
    const ready = () => srv.app.inject({ method: "GET", url: "/ready" });

    // Healthy: the model answers (and is stricter than the rules, which stands).
    model.behaviour = "strict_deny";
    expect((await ask()).source).toBe("llm");
    expect((await ready()).statusCode).toBe(200);

    model.behaviour = "error_500";
    for (let i = 0; i < 3; i++) {
      const a = await ask();
      expect(a.decision, JSON.stringify(a)).toBe("require_attestation");
    }
    expect(circuit.state).toBe("open");

    // Open: the model is not even asked, the answer is immediate and fail-closed.
    const before = model.requests;
    const t0 = performance.now();
    const fast = await ask();
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS);
    expect(model.requests).toBe(before);
    expect(fast.source).toBe("fallback");
    expect(fast.decision).toBe("require_attestation");
    expect(fast.fallbackCause).toMatch(/circuit_open/);

    const notReady = await ready();
    expect(notReady.statusCode).toBe(503);
    expect(notReady.body).toMatch(/circuit/);
    const runtime = (await srv.app.inject({ method: "GET", url: "/v1/runtime" })).json() as {
      circuit: string;
    };
    expect(runtime.circuit).toBe("open");
    const metrics = (await srv.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/^policy_advisor_llm_circuit_state 2$/m);

    // The model recovers; after the cool-down one probe goes through and closes the circuit.
    model.behaviour = "strict_deny";
    await new Promise((r) => setTimeout(r, 350));
    expect(circuit.state).toBe("half_open");
    expect((await ask()).source).toBe("llm");
    expect(circuit.state).toBe("closed");
    expect((await ready()).statusCode).toBe(200);
    expect((await srv.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(
      /^policy_advisor_llm_circuit_state 0$/m,
    );
  });

  it("an async job against a hung model ends failed-closed, never pending forever", async () => {
    model.behaviour = "hang";
    // Jobs have no request deadline; the backend's own timeout (1 s here) bounds them.
    const built = llmAdvisor(1000, 60_000, 1000);
    const jobsSrv = await buildTestApp({
      advisor: built.advisor,
      llm: built.circuit,
      circuit: () => built.circuit.state,
      cache: { enabled: false, ttlSeconds: 1, size: 1 },
    });
    try {
      const accepted = await jobsSrv.app.inject({ method: "POST", url: "/v1/jobs", payload: allowed });
      expect(accepted.statusCode).toBe(202);
      const { location } = accepted.json() as { location: string };
      let job: { status: string; result?: { decision: string; source: string } } = { status: "pending" };
      const until = Date.now() + 10_000;
      while (job.status === "pending" && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        job = (await jobsSrv.app.inject({ method: "GET", url: location })).json() as typeof job;
      }
      expect(job.status).toBe("done");
      // Bounded by the backend's 1 s timeout, not by some longer default.
      expect(Date.now() - (until - 10_000)).toBeLessThan(4000);
      expect(job.result?.source).toBe("fallback");
      expect(job.result?.decision).toBe("require_attestation");
    } finally {
      await jobsSrv.close();
    }
  });

  it("a hung model opens the circuit too: deadlines count as failures", async () => {
    const built = llmAdvisor(2, 60_000);
    model.behaviour = "hang";
    for (let i = 0; i < 2; i++) {
      const d = await built.advisor.advise(allowed, { deadlineMs: 200 });
      expect(d.source).toBe("fallback");
    }
    expect(built.circuit.state).toBe("open");
    await built.advisor.close();
  });
});
