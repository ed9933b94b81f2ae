import { chunks, type ElementMatch } from "./lexical.js";
import type { CoverageMatcher } from "./score.js";

/**
 * Reasoning coverage by sentence embeddings, as the reference scored it: an expected element counts when the
 * reasoning contains it verbatim, or else when some phrase-level chunk of the reasoning is close enough in
 * meaning (cosine similarity of embeddings at or above the threshold, 0.35 by default).
 */

/** Anything that turns a text into a vector: an embedding GGUF, the loaded LLM, or a test double of one. */
export interface Embedder {
  readonly name: string;
  embed(text: string): Promise<readonly number[]>;
  close(): Promise<void>;
}

export const DEFAULT_SIMILARITY_THRESHOLD = 0.35;

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  // Clamped: rounding can put nearly parallel vectors a hair above 1.
  return na === 0 || nb === 0 ? 0 : Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/** Lowercase words only, so "Borderline-trust" contains "borderline trust". */
const plain = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

export interface EmbeddingMatcher extends CoverageMatcher {
  readonly threshold: number;
  close(): Promise<void>;
}

export function createEmbeddingMatcher(
  embedder: Embedder,
  opts: { threshold?: number } = {},
): EmbeddingMatcher {
  const threshold = opts.threshold ?? DEFAULT_SIMILARITY_THRESHOLD;
  if (!(threshold > -1 && threshold <= 1))
    throw new Error(`similarity threshold: expected -1..1, got ${threshold}`);
  // Elements and chunks repeat across runs and variants: embed each text once.
  const cache = new Map<string, Promise<readonly number[]>>();
  const vector = (text: string): Promise<readonly number[]> => {
    let v = cache.get(text);
    if (!v) {
      v = embedder.embed(text);
      cache.set(text, v);
    }
    return v;
  };

  async function match(element: string, reasoningPlain: string, parts: string[]): Promise<ElementMatch> {
    const el = plain(element);
    if (el && ` ${reasoningPlain} `.includes(` ${el} `)) return { element, matched: true, how: "exact" };
    if (parts.length === 0) return { element, matched: false, how: "none" };
    const want = await vector(element);
    let best = -1;
    let bestChunk = "";
    for (const c of parts) {
      const s = cosineSimilarity(want, await vector(c));
      if (s > best) {
        best = s;
        bestChunk = c;
      }
    }
    const similarity = Math.round(best * 1000) / 1000;
    return best >= threshold
      ? { element, matched: true, how: "semantic", chunk: bestChunk, similarity }
      : { element, matched: false, how: "none", chunk: bestChunk, similarity };
  }

  return {
    name: `embedding (${embedder.name}, threshold ${threshold})`,
    threshold,
    async coverage(elements, reasoning) {
      if (elements.length === 0) return { coverage: 1, matches: [] };
      const parts = chunks(reasoning)
        .map((c) => c.trim())
        .filter((c) => c.length > 0);
      const reasoningPlain = plain(reasoning);
      const matches: ElementMatch[] = [];
      // One at a time: an embedding context evaluates one text at a time anyway.
      for (const e of elements) matches.push(await match(e, reasoningPlain, parts));
      return { coverage: matches.filter((m) => m.matched).length / elements.length, matches };
    },
    close: () => embedder.close(),
  };
}
