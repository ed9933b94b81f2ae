import { createHash } from "node:crypto";

/** JSON with object keys sorted, so that equal content hashes equally whatever its key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** Short content hash used as a revision id: "sha256:" + 12 hex digits. */
export function contentHash(value: unknown): string {
  const text = typeof value === "string" ? value : canonicalJson(value);
  return `sha256:${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
}
