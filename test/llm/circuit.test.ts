import { describe, expect, it } from "vitest";
import type { EngineVerdict } from "../../src/engine/types.js";
import { CircuitBreakerBackend, CircuitOpenError, type CircuitState } from "../../src/llm/circuit.js";
import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend } from "../../src/llm/types.js";
import type { Situation } from "../../src/schemas/situation.js";

/**
 * The circuit breaker's own state machine, driven by a backend whose health the test switches.
 * (The breaker in front of a real HTTP model server that hangs, errors and dies is in test/reliability/faults.test.ts.)
 */
class SwitchableBackend implements LlmBackend {
  readonly kind = "openai" as const;
  readonly modelId = "switchable";
  readonly promptVersion = "test@0";
  readonly parallelism = 4;
  health: "ok" | "error" | "hang" = "ok";
  calls = 0;
  async advise(_req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    this.calls += 1;
    if (this.health === "error") throw new Error("model server answered 500");
    if (this.health === "hang") return new Promise<LlmAdviceResult>(() => {});
    return {
      advice: {
        decision: "deny",
        classification: "x",
        riskLevel: "high",
        reasoning: { roleCheck: "", trustCheck: "", environment: "", context: "" },
        policyReferences: [],
      },
      usage: { evaluated: 1, reused: 0, generated: 1 },
      ms: 1,
      raw: "{}",
    };
  }
  async close(): Promise<void> {}
}

const req = (signal?: AbortSignal): LlmAdviceRequest => ({
  situation: {} as Situation,
  verdict: {} as EngineVerdict,
  ...(signal ? { signal } : {}),
});

function setup(threshold = 3, cooldownMs = 1000) {
  let t = 0;
  const inner = new SwitchableBackend();
  const changes: Array<[CircuitState, CircuitState]> = [];
  const cb = new CircuitBreakerBackend(inner, {
    failureThreshold: threshold,
    cooldownMs,
    now: () => t,
    onStateChange: (from, to) => changes.push([from, to]),
  });
  return { inner, cb, changes, advance: (ms: number) => (t += ms) };
}

describe("LLM circuit breaker", () => {
  it("opens after N consecutive failures, then fails fast without calling the model", async () => {
    const { inner, cb } = setup(3);
    inner.health = "error";
    for (let i = 0; i < 2; i++) await expect(cb.advise(req())).rejects.toThrow("500");
    expect(cb.state).toBe("closed");
    await expect(cb.advise(req())).rejects.toThrow("500");
    expect(cb.state).toBe("open");
    const before = inner.calls;
    const err = await cb.advise(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as Error).message).toMatch(/circuit open/);
    expect(inner.calls).toBe(before);
    expect(cb.snapshot()).toMatchObject({ state: "open", consecutiveFailures: 3, opens: 1 });
    expect(cb.snapshot().retryAt).not.toBeNull();
  });

  it("a success in between resets the count: only consecutive failures open it", async () => {
    const { inner, cb } = setup(3);
    for (let round = 0; round < 5; round++) {
      inner.health = "error";
      await cb.advise(req()).catch(() => {});
      await cb.advise(req()).catch(() => {});
      inner.health = "ok";
      await cb.advise(req());
    }
    expect(cb.state).toBe("closed");
  });

  it("after the cool-down lets exactly one probe through; its success closes the circuit", async () => {
    const { inner, cb, advance, changes } = setup(2, 1000);
    inner.health = "error";
    await cb.advise(req()).catch(() => {});
    await cb.advise(req()).catch(() => {});
    expect(cb.state).toBe("open");
    advance(999);
    expect(cb.state).toBe("open");
    advance(1);
    expect(cb.state).toBe("half_open");
    inner.health = "ok";
    // The probe is slow: a second call meanwhile must not reach the model.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slowAdvise = inner.advise.bind(inner);
    inner.advise = async (r) => {
      await gate;
      return slowAdvise(r);
    };
    const probe = cb.advise(req());
    await expect(cb.advise(req())).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await probe;
    expect(cb.state).toBe("closed");
    expect(changes).toEqual([
      ["closed", "open"],
      ["open", "half_open"],
      ["half_open", "closed"],
    ]);
  });

  it("a failed probe opens it again for another full cool-down", async () => {
    const { inner, cb, advance } = setup(1, 500);
    inner.health = "error";
    await cb.advise(req()).catch(() => {});
    advance(500);
    await expect(cb.advise(req())).rejects.toThrow("500");
    expect(cb.state).toBe("open");
    expect(cb.snapshot().opens).toBe(2);
    advance(499);
    await expect(cb.advise(req())).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("a hung model cut short by the caller's deadline counts as a failure and does not leak", async () => {
    const { inner, cb } = setup(2);
    inner.health = "hang";
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      await expect(cb.advise(req(AbortSignal.timeout(50)))).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    expect(cb.state).toBe("open");
  });

  it("passes the backend's identity through (versions.model and prompt stay right)", () => {
    const { cb } = setup();
    expect([cb.kind, cb.modelId, cb.promptVersion, cb.parallelism]).toEqual([
      "openai",
      "switchable",
      "test@0",
      4,
    ]);
  });
});
