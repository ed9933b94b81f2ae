/** Durations as people write them in flags and files: "90s", "15m", "1h", "7d", "2w", or a number of seconds. */
const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(v: string | number, what = "duration"): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0)
      throw new RangeError(`${what}: expected a positive number of seconds, got ${v}`);
    return v * 1_000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(v);
  if (!m) throw new RangeError(`${what}: expected a duration such as 90s, 15m, 1h, 7d or 2w, got "${v}"`);
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}

/**
 * A --since / --until value: an ISO 8601 date-time, or a duration meaning "that long before now"
 * (so `--since 7d` is the last week). Returns an ISO string.
 */
export function parseTimeArg(v: string, what: string, now = Date.now()): string {
  if (/^\s*\d+(\.\d+)?\s*[smhdw]\s*$/i.test(v)) return new Date(now - parseDuration(v, what)).toISOString();
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new RangeError(`${what}: expected an ISO 8601 date-time or a duration such as 7d, got "${v}"`);
  return new Date(t).toISOString();
}
