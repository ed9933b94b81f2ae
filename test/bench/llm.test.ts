import { describe, expect, it } from "vitest";
import { runLlmBench } from "../../src/bench/llm.js";
import { resolveContextCount } from "../../src/llm/llama/backend.js";
import { physicalCores } from "../../src/llm/llama/cpu.js";
import { TEST_THREADS } from "../helpers/model.js";

describe("bench llm section (quick, tiny model)", () => {
  it("measures the reference and our pipeline in one run and reports the contract's fields", async () => {
    const lines: string[] = [];
    const r = await runLlmBench({ progress: (m) => lines.push(m), quick: true, threads: TEST_THREADS });
    for (const k of [
      "modelShare",
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
    // Token counts are mechanics, not timing. Both sides keep the prefix their previous call left (the
    // reference as llama-cpp-python does: the longest common prefix), so each evaluates only its request.
    expect(r.ours.reusedTokens).toBeGreaterThanOrEqual(r.ours.prefixTokens);
    expect(r.baseline.reusedTokens).toBeGreaterThan(r.baseline.evaluatedTokens);
    expect(r.baseline.prefixReuse).toBe("longest common prefix");
    // The reference's answer is as long as its own five example answers on average, not a cap of 512.
    expect(r.fair.exampleAnswerTokens).toHaveLength(5);
    const meanExample = r.fair.exampleAnswerTokens.reduce((a, b) => a + b, 0) / 5;
    expect(r.fair.answerTokens).toBe(Math.round(meanExample));
    expect(r.baseline.maxTokens).toBe(r.fair.answerTokens);
    expect(r.baseline.generatedTokens).toBeLessThanOrEqual(r.fair.answerTokens);
    // The same requests and runs on both sides; the contract's ratios are the fair ones.
    expect(r.baseline.runs).toBe(r.ours.runs);
    expect(r.fair.requests).toHaveLength(r.ours.runs);
    expect(r.speedup).toBe(r.fair.timeRatio);
    expect(r.tokenRatio).toBe(r.fair.tokenRatio);
    // The share of the realistic mix that waits for the model, by the service's routing rule.
    expect(r.mix.requests).toBe(8 + 16 + 210);
    expect(r.modelShare).toBeGreaterThan(0);
    expect(r.modelShare).toBeLessThan(1);
    expect(r.msPerRequestInMix).toBeLessThanOrEqual(r.msPerAdvisory);
    expect(r.targets.map((t) => t.name)).toEqual([
      "time per advisory",
      "tokens evaluated per request",
      "parallel throughput",
    ]);
    expect(r.targets[2]?.detail).toMatch(/fastest single-request setup/);
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
