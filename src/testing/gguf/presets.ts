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
  /** Matrix weights in F16 (half the file) or F32. Norms are always F32, as llama.cpp requires. */
  f16: boolean;
}

export const PRESETS = {
  /** Loads and generates in well under a second: for tests. */
  tiny: { embd: 64, layers: 2, heads: 4, kvHeads: 2, ff: 128, contextLength: 16384, words: true, f16: false },
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
    f16: true,
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
