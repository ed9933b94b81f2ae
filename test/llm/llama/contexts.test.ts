import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaBackend, resolveContextCount } from "../../../src/llm/llama/backend.js";
import { CompactAdviceSchema } from "../../../src/schemas/decision.js";
import { TEST_THREADS, tinyModel } from "../../helpers/model.js";
import { sampleRequest } from "./fixtures.js";

describe("how many contexts the sequences are spread over", () => {
  it("defaults to one per core on the CPU, never more than the sequences, and to one on a GPU", () => {
    expect(resolveContextCount(undefined, 4, "cpu", 2)).toBe(2);
    expect(resolveContextCount(undefined, 1, "cpu", 2)).toBe(1);
    expect(resolveContextCount(undefined, 2, "cpu", 8)).toBe(2);
    // Sequences are split evenly: 3 sequences on 2 cores cannot be, so one context holds them.
    expect(resolveContextCount(undefined, 3, "cpu", 2)).toBe(1);
    expect(resolveContextCount(undefined, 6, "cpu", 4)).toBe(3);
    expect(resolveContextCount(undefined, 4, "cuda", 8)).toBe(1);
  });

  it("takes the caller's count when it divides the sequences, and names the bad value otherwise", () => {
    expect(resolveContextCount(4, 4, "cuda", 1)).toBe(4);
    expect(() => resolveContextCount(3, 4, "cpu", 2)).toThrow(
      /contexts: 3 .*divides the sequence count \(4\)/,
    );
    expect(() => resolveContextCount(0, 4, "cpu", 2)).toThrow(/contexts: 0/);
    expect(() => resolveContextCount(8, 4, "cpu", 2)).toThrow(/contexts: 8/);
  });
});

describe("a backend with its sequences over two contexts (tiny synthetic model)", () => {
  let model: ReturnType<typeof tinyModel>;
  let backend: LlamaBackend;
  const logs: string[] = [];

  beforeAll(async () => {
    model = tinyModel();
    backend = await LlamaBackend.create({
      modelPath: model.path,
      sequences: 4,
      contexts: 2,
      threads: TEST_THREADS,
      log: (line) => logs.push(line),
    });
  });
  afterAll(async () => {
    await backend?.close();
    model?.cleanup();
  });

  it("says how the sequences are spread", () => {
    expect(backend.parallelism).toBe(4);
    expect(backend.stats()).toMatchObject({ sequences: 4, contexts: 2, threads: TEST_THREADS });
    expect(logs.some((l) => l.includes("4 sequences over 2 contexts, 1 thread(s) each"))).toBe(true);
  });

  it("evaluates the prefix once for every sequence of both contexts and answers in parallel", async () => {
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => backend.advise(sampleRequest(n))));
    for (const r of results) {
      expect(CompactAdviceSchema.safeParse(r.advice).success).toBe(true);
      // Every sequence, whichever context it belongs to, held the prefix before its first request.
      expect(r.usage.reused).toBeGreaterThanOrEqual(backend.prefixTokenCount);
    }
    const stats = backend.stats();
    expect(stats.busy).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(stats.requests).toBe(6);
    // Warm-up evaluated the prefix once (the other three sequences loaded a copy of its state).
    expect(stats.tokens.evaluated - results.reduce((n, r) => n + r.usage.evaluated, 0)).toBe(
      backend.prefixTokenCount,
    );
  });

  it("refuses a context count that does not divide the sequences before loading anything", async () => {
    await expect(
      LlamaBackend.create({ modelPath: model.path, sequences: 4, contexts: 3, log: () => {} }),
    ).rejects.toThrow(/contexts: 3/);
  });
});
