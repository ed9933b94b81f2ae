import { COHERENCE_KEYS, SITUATION_TO_R6 } from "../schemas/adapters.js";
import type { DecisionRecord } from "../schemas/records.js";

/**
 * Masking of sensitive input before anything reaches the decision log or the service log.
 *
 * A path is a dot-separated list of keys ("action.parameters.password"); "*" matches any one key.
 * Arrays are transparent: a path continues into every element. The masked value is replaced by
 * MASKED whatever it was (a string, a number, a whole object such as "t3_tensor").
 *
 * Replacing the field is not enough: the rules' reasoning quotes trust scores, a model may quote the
 * request, an error may quote the model. So the values found at the masked paths are also scrubbed, as
 * text, from every string of the record (Masker.record): reasoning, signals, fallback details, anything.
 * A path names a field in either request shape: "t3_tensor" also masks an R6Request's "trustState", and
 * "action.parameters.password" a situation's "parameters.password" (aliasesOf).
 */
export const MASKED = "[masked]";

/** Shorter strings are masked in their field but not scrubbed from other text: they would match everywhere. */
export const MIN_SCRUB_LENGTH = 4;
/** Numbers are scrubbed from text when written with at least this many characters ("0.8", "1234"). */
const MIN_NUMBER_CHARS = 3;

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

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= path.length && prefix.every((k, i) => path[i] === k);

/** The fields of a situation that live under an R6Request's `action` or `context`. */
const R6_CONTAINERS = new Set(["action", "context"]);

/**
 * The same field in the other request shape (src/schemas/adapters.ts maps them), so that one mask
 * covers a request whichever shape carried it. A path naming a container (R6 "action") covers every
 * situation field inside it. Paths that start with "*" already match either shape.
 */
export function aliasesOf(path: readonly string[]): string[][] {
  const [head, ...rest] = path;
  if (head === undefined || head === "*") return [];
  const out: string[][] = [];
  // As a situation path.
  const mapped = SITUATION_TO_R6.find(([field]) => field === head);
  if (mapped) out.push([...mapped[1], ...rest]);
  else if (head === "details") out.push(["action", "description", ...rest]);
  else if (head === "coherence_state") {
    const camel = COHERENCE_KEYS.find(([snake]) => snake === rest[0])?.[1];
    out.push(camel ? ["coherenceState", camel, ...rest.slice(1)] : ["coherenceState", ...rest]);
    out.push(["extensions", "coherence_state", ...rest]);
  } else if (head === "r6_extra") out.push(rest);
  else out.push(["extensions", ...path]);
  // As an R6Request path.
  for (const [field, r6] of SITUATION_TO_R6) {
    if (startsWith(path, r6)) out.push([field, ...path.slice(r6.length)]);
    else if (startsWith(r6, path)) out.push([field]);
  }
  if (startsWith(path, ["action", "description"])) out.push(["details", ...path.slice(2)]);
  else if (path.length === 1 && head === "action") out.push(["details"]);
  if (head === "coherenceState") {
    const snake = COHERENCE_KEYS.find(([, c]) => c === rest[0])?.[0];
    out.push(snake ? ["coherence_state", snake, ...rest.slice(1)] : ["coherence_state", ...rest]);
  } else if (head === "extensions") out.push(rest);
  else if (!mapped && !R6_CONTAINERS.has(head) && !SITUATION_TO_R6.some(([, r6]) => r6[0] === head)) {
    out.push(["r6_extra", ...path]);
  }
  return out.filter((p) => p.length > 0);
}

/** What was masked in one request: the values to scrub from every other string of its record. */
export interface Secrets {
  /** One pattern for every masked string (case-insensitive, any run of whitespace as any other); null: none. */
  text: RegExp | null;
  /** Strings, longest first, for cut-off quotes at the end of a text. */
  strings: string[];
  numbers: number[];
}

const NO_SECRETS: Secrets = { text: null, strings: [], numbers: [] };
const NO_KEYS: ReadonlySet<string> = new Set();
/**
 * A decision's fields that are the service's own values (ids, enums, versions), never quoted text.
 * Not fallbackCause: it carries the failure's detail, which may quote a model's answer.
 */
const DECISION_KEYS: ReadonlySet<string> = new Set([
  "decisionId",
  "decision",
  "riskLevel",
  "source",
  "tier",
  "versions",
  "latencyMs",
  "engine",
  "llm",
  "kept",
  "id",
  "severity",
]);

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const flexible = (s: string): string => s.trim().split(/\s+/).map(escapeRegExp).join("\\s+");

function collect(value: unknown, strings: Set<string>, numbers: Set<number>): void {
  if (typeof value === "string") {
    const s = value.trim();
    if (s.length < MIN_SCRUB_LENGTH) return;
    strings.add(s);
    // Quoted inside JSON text (a prompt, a model's echo), the same value appears escaped.
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) strings.add(escaped);
  } else if (typeof value === "number" && Number.isFinite(value)) {
    if (String(value).length >= MIN_NUMBER_CHARS) numbers.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, strings, numbers);
  } else if (isObject(value)) {
    for (const v of Object.values(value)) collect(v, strings, numbers);
  }
}

/** A number as text: optional sign, digits, optional decimals; not part of a longer number or word. */
const NUMBER_TOKEN = /(?<![\w.])-?\d+(?:\.\d+)?(?![\w]|\.\d)/g;

/**
 * True when a number token in text renders the secret: exactly, or rounded to the token's own 2 or more
 * decimals (the rules write trust scores as 0.81 for 0.8137).
 */
function rendersSecret(token: string, n: number): boolean {
  if (token === String(n)) return true;
  const decimals = token.split(".")[1]?.length ?? 0;
  return decimals >= 2 && n.toFixed(decimals) === token;
}

export class Masker {
  private readonly paths: string[][];

  /** Throws when a path is malformed (an empty segment). */
  constructor(paths: readonly string[] = []) {
    const own = parseMaskPaths(paths);
    const seen = new Set<string>();
    this.paths = [];
    for (const p of [...own, ...own.flatMap(aliasesOf)]) {
      const key = p.join("\u0000");
      if (seen.has(key)) continue;
      seen.add(key);
      this.paths.push(p);
    }
  }

  get active(): boolean {
    return this.paths.length > 0;
  }

  /** The values at the masked paths of a request (either shape). */
  secretsOf(input: unknown): Secrets {
    if (!this.active) return NO_SECRETS;
    const strings = new Set<string>();
    const numbers = new Set<number>();
    const visit = (value: unknown, path: readonly string[]): void => {
      if (Array.isArray(value)) {
        for (const v of value) visit(v, path);
        return;
      }
      if (path.length === 0) {
        collect(value, strings, numbers);
        return;
      }
      if (!isObject(value)) return;
      const [head, ...rest] = path as [string, ...string[]];
      for (const key of head === "*" ? Object.keys(value) : [head]) {
        if (key in value) visit(value[key], rest);
      }
    };
    for (const p of this.paths) visit(input, p);
    if (strings.size === 0 && numbers.size === 0) return NO_SECRETS;
    const sorted = [...strings].sort((a, b) => b.length - a.length);
    return {
      text: sorted.length > 0 ? new RegExp(sorted.map(flexible).join("|"), "gi") : null,
      strings: sorted,
      numbers: [...numbers],
    };
  }

  /** The masked fields of a request replaced by MASKED; a copy, the input is not modified. */
  maskFields(input: unknown): unknown {
    let out = input;
    for (const p of this.paths) out = maskAt(out, p);
    return out;
  }

  /** A text with every masked value in it replaced by MASKED. */
  scrubText(text: string, secrets: Secrets): string {
    let out = secrets.text ? text.replace(secrets.text, MASKED) : text;
    if (secrets.numbers.length > 0) {
      out = out.replace(NUMBER_TOKEN, (token) =>
        secrets.numbers.some((n) => rendersSecret(token, n)) ? MASKED : token,
      );
    }
    // A quote cut short (an error message keeps the first 300 characters of an answer) ends with the
    // start of a value: mask that too.
    for (const s of secrets.strings) {
      for (let k = Math.min(s.length - 1, out.length); k >= MIN_SCRUB_LENGTH; k--) {
        if (out.slice(-k).toLowerCase() === s.slice(0, k).toLowerCase()) {
          out = `${out.slice(0, -k)}${MASKED}`;
          break;
        }
      }
    }
    return out;
  }

  /**
   * A deep copy with every string scrubbed (object keys are kept as they are), except the values of
   * `keep` keys: a decision's ids, enums and versions are the service's own words, and scrubbing a
   * masked "allow" or "deploy" out of them would corrupt the record, not protect anything.
   */
  scrub<T>(value: T, secrets: Secrets, keep: ReadonlySet<string> = NO_KEYS): T {
    if (secrets === NO_SECRETS) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return this.scrubText(v, secrets);
      if (Array.isArray(v)) return v.map(walk);
      if (isObject(v))
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, keep.has(k) ? x : walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  /** A decision with the free text scrubbed: reasoning, signal details, references, anything added later. */
  scrubDecision<T>(decision: T, secrets: Secrets): T {
    return this.scrub(decision, secrets, DECISION_KEYS);
  }

  /**
   * The record as it may be stored: masked fields replaced, and every masked value scrubbed from every
   * string of the request, the decision (reasoning, signals, fallback details, model text) and the review.
   */
  record(r: DecisionRecord): DecisionRecord {
    if (!this.active) return r;
    const secrets = this.secretsOf(r.input);
    const input = this.scrub(this.maskFields(r.input), secrets);
    return {
      ...r,
      input,
      decision: this.scrubDecision(r.decision, secrets),
      ...(r.review ? { review: this.scrub(r.review, secrets) } : {}),
    };
  }
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

/** Returns a masked copy; the input is not modified. Fields only: see Masker.record for the whole record. */
export function maskInput(input: unknown, paths: readonly (readonly string[])[]): unknown {
  let out = input;
  for (const p of paths) out = maskAt(out, p);
  return out;
}

/** The masker as the pipeline's scrub function: an error message that may quote a request, scrubbed. */
export function scrubberOf(masker: Masker): ((message: string, input: unknown) => string) | undefined {
  return masker.active ? (message, input) => masker.scrubText(message, masker.secretsOf(input)) : undefined;
}
