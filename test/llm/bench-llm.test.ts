import { describe, expect, it } from "vitest";
import { runLlmBench } from "../../src/bench/llm.js";
import { resolveContextCount } from "../../src/llm/llama/backend.js";
import { physicalCores } from "../../src/llm/llama/cpu.js";
import { TEST_THREADS } from "./model.js";

describe("bench llm section (quick, tiny model)", () => {
  it("measures the reference and our pipeline in one run and reports the contract's fields", async () => {
    const lines: string[] = [];
    const r = await runLlmBench({ progress: (m) => lines.push(m), quick: true, threads: TEST_THREADS });
    for (const k of [
      "baselineMsPerAdvisory",
      "msPerAdvisory",
      "speedup",
      "baselineTokensPerRequest",
      "tokensPerRequest",
      "tokenRatio",
      "parallelSpeedup",
      "parallelVsFastestSingle",
    ] as const) {
      expect(r[k], k).toBeGreaterThan(0);
    }
    expect(r.model).toBe("synthetic tiny preset");
    // Ours is the default variant, which declares the compact answer.
    expect(r.ours.prompt).toMatch(/^default@sha256:/);
    expect(r.ours.answer).toBe("compact");
    // Token counts are mechanics, not timing: the reference evaluates its whole prompt, we only the request.
    expect(r.baseline.reusedTokens).toBe(0);
    expect(r.baseline.evaluatedTokens).toBeGreaterThan(r.ours.prefixTokens);
    expect(r.ours.reusedTokens).toBeGreaterThanOrEqual(r.ours.prefixTokens);
    expect(r.tokenRatio).toBeGreaterThanOrEqual(5);
    expect(r.baseline.generatedTokens).toBeLessThanOrEqual(512);
    expect(r.targets.map((t) => t.name)).toEqual([
      "time per advisory",
      "tokens evaluated per request",
      "parallel throughput",
    ]);
    expect(r.targets[1]?.met).toBe(true);
    expect(lines.some((l) => l.startsWith("llm: reference"))).toBe(true);
    // The parallel run is shaped as a 4-sequence sidecar on this machine would be, and says so.
    expect(r.parallel.concurrency).toBe(4);
    expect(r.parallel.contexts).toBe(resolveContextCount(undefined, 4, r.device, physicalCores()));
    expect(r.parallel.threadsPerContext).toBe(TEST_THREADS);
    // The target's baseline is that same backend with one request in flight, measured in the run.
    expect(r.parallel.oneAtATimeMsPerAdvisory).toBeGreaterThan(0);
    const implied = 1000 / r.parallel.oneAtATimeMsPerAdvisory;
    expect(Math.abs(r.parallel.sequentialThroughputPerSec - implied) / implied).toBeLessThan(0.02);
    expect(lines.some((l) => l.startsWith("llm: the same backend one request at a time"))).toBe(true);
  }, 180_000);
});
