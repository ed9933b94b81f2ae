/**
 * Masking of sensitive input fields before they reach the decision log.
 *
 * A path is a dot-separated list of keys ("action.parameters.password"); "*" matches any one key.
 * Arrays are transparent: a path continues into every element. The masked value is replaced by
 * MASKED whatever it was (a string, a number, a whole object such as "t3_tensor").
 */
export const MASKED = "[masked]";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseMaskPaths(paths: readonly string[]): string[][] {
  return paths
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => {
      const parts = p.split(".");
      if (parts.some((s) => s.length === 0)) throw new Error(`mask path "${p}" has an empty segment`);
      return parts;
    });
}

function maskAt(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => maskAt(v, path));
  if (!isObject(value) || path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const out: Json = { ...value };
  for (const key of head === "*" ? Object.keys(out) : [head]) {
    if (!(key in out)) continue;
    out[key] = rest.length === 0 ? MASKED : maskAt(out[key], rest);
  }
  return out;
}

/** Returns a masked copy; the input is not modified. */
export function maskInput(input: unknown, paths: readonly (readonly string[])[]): unknown {
  let out = input;
  for (const p of paths) out = maskAt(out, p);
  return out;
}
