/** Order statistics for latency samples. Nearest-rank percentiles: each reported value was observed. */

export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(samples);
  out.sort();
  return out;
}

/** The p-th percentile (0..100) of already sorted samples; NaN for an empty sample. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  const i = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[i]!;
}

export function percentile(samples: ArrayLike<number>, p: number): number {
  return percentileSorted(sortedCopy(samples), p);
}

/** Rounds for display and JSON: benchmarks are noisy, more digits would only pretend precision. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
