import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity, createEmbeddingMatcher, type Embedder } from "../../src/eval/embedding.js";
import { openEmbeddingModel } from "../../src/eval/embedding-llama.js";
import { makeModel } from "../../src/testing/gguf/model.js";

const REASONING =
  "The developer role permits commits. Trust of 0.85 meets the threshold; the repository is not production. " +
  "The commit happens at 03:30, far outside the usual hours, so a second person should confirm it.";

describe("cosine similarity", () => {
  it("is 1 for the same direction, 0 for orthogonal, -1 for opposite, 0 for a zero vector", () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
    expect(cosineSimilarity([1, 0], [0, 1])).toBeCloseTo(0);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(/sizes differ/);
  });
});

describe("embedding matcher on a real GGUF model (synthetic weights)", () => {
  let embedder: Embedder;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "emb-"));
    const { path } = makeModel({ out: join(dir, "tiny.gguf"), preset: "tiny" });
    // One thread: on a shared CI machine, two spinning threads per tiny batch are many times slower.
    embedder = await openEmbeddingModel(path, () => {}, 1);
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it("gives the same vector for the same text and a bounded similarity for others", async () => {
    const a = await embedder.embed("borderline trust");
    const b = await embedder.embed("borderline trust");
    const c = await embedder.embed("a production deploy at night");
    expect(a.length).toBeGreaterThan(0);
    expect(cosineSimilarity(a, b)).toBeCloseTo(1, 5);
    const s = cosineSimilarity(a, c);
    expect(s).toBeGreaterThanOrEqual(-1);
    expect(s).toBeLessThan(1);
  });

  it("matches an element found verbatim as exact, before any embedding", async () => {
    const m = createEmbeddingMatcher(embedder, { threshold: 0.9999 });
    const r = await m.coverage(["developer role permits", "far outside the usual hours"], REASONING);
    expect(r.coverage).toBe(1);
    expect(r.matches.map((x) => x.how)).toEqual(["exact", "exact"]);
  });

  it("matches by similarity of phrase-level chunks against the threshold", async () => {
    const elements = ["pattern deviation", "additional verification", "night work", "zero approvals"];
    const loose = await createEmbeddingMatcher(embedder, { threshold: -0.999 }).coverage(elements, REASONING);
    expect(loose.coverage).toBe(1);
    for (const m of loose.matches) {
      expect(m.how).toBe("semantic");
      expect(REASONING).toContain(m.chunk);
      expect(m.similarity).toBeGreaterThanOrEqual(-1);
    }
    // Between the lowest and highest similarity seen, the threshold decides exactly which elements count.
    const sims = loose.matches.map((m) => m.similarity ?? 0);
    const cut = (Math.min(...sims) + Math.max(...sims)) / 2;
    const mid = await createEmbeddingMatcher(embedder, { threshold: cut }).coverage(elements, REASONING);
    expect(mid.matches.map((m) => m.similarity)).toEqual(sims);
    expect(mid.matches.map((m) => m.matched)).toEqual(sims.map((s) => s >= cut));
    const none = await createEmbeddingMatcher(embedder, { threshold: 1 }).coverage(
      ["zzz qqq"],
      "Trust is fine.",
    );
    expect(none.matches[0]?.matched).toBe((none.matches[0]?.similarity ?? 0) >= 1);
  });

  it("reports its model and threshold, and rejects a threshold outside -1..1", () => {
    expect(createEmbeddingMatcher(embedder).name).toBe("embedding (tiny.gguf, threshold 0.35)");
    expect(() => createEmbeddingMatcher(embedder, { threshold: 2 })).toThrow(/threshold/);
  });
});
