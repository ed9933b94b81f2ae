/**
 * The project's own synthetic GGUF models (random weights, `policy-advisor testing make-model`) say so in
 * their metadata, so that a decision made with one can say so too: their answers are noise.
 */

/** GGUF metadata key the synthetic model writer sets to true. */
export const SYNTHETIC_GGUF_KEY = "policy_advisor.synthetic";

/** general.name of the synthetic models, written before the key above existed (and still written). */
const SYNTHETIC_NAME_PREFIX = "policy-advisor synthetic ";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether a GGUF's metadata (as node-llama-cpp parses it: dotted keys become nested objects) marks a
 * synthetic model. Reads the file's own metadata only, never its file name.
 */
export function isSyntheticGguf(metadata: unknown): boolean {
  if (!isObject(metadata)) return false;
  const [ns, key] = SYNTHETIC_GGUF_KEY.split(".") as [string, string];
  const own = metadata[ns];
  if (isObject(own) && own[key] === true) return true;
  const general = metadata.general;
  return (
    isObject(general) && typeof general.name === "string" && general.name.startsWith(SYNTHETIC_NAME_PREFIX)
  );
}
