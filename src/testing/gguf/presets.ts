/** Shapes of the synthetic llama models. */
export interface ModelShape {
  /** Hidden size (llama.embedding_length). */
  embd: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than heads). */
  kvHeads: number;
  /** Feed-forward inner size. */
  ff: number;
  /** Training context length written to the metadata (the longest context a caller may ask for). */
  contextLength: number;
  /** Word pieces in the vocabulary (see vocab.ts) for realistic token counts. */
  words: boolean;
  /**
   * Storage of the matrix weights. Norms are always F32, as llama.cpp requires. Q8_0 (8-bit, as deployed
   * models are quantised) makes CPU generation memory-bound like a real quantised model, so batching
   * parallel sequences pays off as it does in production; F32 is simplest for tests.
   */
  weights: "f32" | "f16" | "q8_0";
}

export const PRESETS = {
  /** Loads and generates in well under a second: for tests. */
  tiny: {
    embd: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    ff: 128,
    contextLength: 16384,
    words: true,
    weights: "f32",
  },
  /**
   * Large enough that per-token compute dominates over fixed overheads, so relative speeds
   * (prefix reuse, grammar, parallel sequences) mean something, yet a benchmark run stays at a few minutes
   * on 2 CPU cores.
   */
  bench: {
    embd: 768,
    layers: 12,
    heads: 12,
    kvHeads: 4,
    ff: 2048,
    contextLength: 16384,
    words: true,
    weights: "q8_0",
  },
} as const satisfies Record<string, ModelShape>;

export type PresetName = keyof typeof PRESETS;

export const isPresetName = (s: string): s is PresetName => Object.hasOwn(PRESETS, s);

/** Parameter count of a shape with a given vocabulary size (embeddings and output included). */
export function parameterCount(shape: ModelShape, vocab: number): number {
  const headDim = shape.embd / shape.heads;
  const kv = headDim * shape.kvHeads;
  const perLayer =
    2 * shape.embd * shape.embd + 2 * shape.embd * kv + 3 * shape.embd * shape.ff + 2 * shape.embd;
  return 2 * vocab * shape.embd + shape.embd + shape.layers * perLayer;
}
