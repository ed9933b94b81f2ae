import { CoherenceStateSchema, type R6Request } from "./r6.js";
import type { Situation } from "./situation.js";

/**
 * Lossless conversion between the two request shapes.
 *
 * Each mapped field has a counterpart on the other side; everything else (unknown fields at any level,
 * or a value whose type the other side cannot hold) travels in a remainder object and is merged back on
 * the return trip: `extensions` on an R6Request, `r6_extra` on a situation. Fields the R6 shape requires
 * but a situation lacks are synthesised and listed in `extensions.__synthesized` so the return trip
 * drops them again.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Situation field -> R6 path. */
export const SITUATION_TO_R6: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["request_id", ["requestId"]],
  ["actor_id", ["actorId"]],
  ["actor_role", ["actorRole"]],
  ["action_type", ["action", "type"]],
  ["resource", ["action", "target"]],
  ["parameters", ["action", "parameters"]],
  ["session_id", ["context", "sessionId"]],
  ["previous_actions", ["context", "previousActions"]],
  ["intent", ["context", "intent"]],
  ["caller_risk_assessment", ["context", "callerRiskAssessment"]],
  ["t3_tensor", ["trustState"]],
  ["timestamp", ["timestamp"]],
];

export const COHERENCE_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["d9_score", "d9Score"],
  ["self_reference_rate", "selfReferenceRate"],
  ["coupling_state", "couplingState"],
];

function getPath(obj: Json, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function setPath(obj: Json, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  cur[path[path.length - 1]!] = value;
}

function deepMerge(target: Json, extra: Json): Json {
  for (const [k, v] of Object.entries(extra)) {
    // Never let data reach the prototype chain (parseRequest refuses such keys; this is defence in depth).
    if (k === "__proto__") continue;
    if (isObject(v) && isObject(target[k])) deepMerge(target[k] as Json, v);
    else target[k] = v;
  }
  return target;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

export function situationToR6(
  situation: Situation,
  now: () => string = () => new Date().toISOString(),
): R6Request {
  const src = clone(situation) as Json;
  const out: Json = { action: {}, context: {} };
  const synthesized: string[] = [];

  for (const [field, path] of SITUATION_TO_R6) {
    if (field in src && src[field] !== undefined) {
      setPath(out, path, src[field]);
      delete src[field];
    }
  }
  if (typeof src.details === "string") {
    setPath(out, ["action", "description"], src.details);
    delete src.details;
  }
  // Mapped only when it makes a valid R6 coherenceState (D9 score and self-reference rate present and in
  // range); otherwise it travels whole in `extensions`, still lossless.
  if (isObject(src.coherence_state)) {
    const cs = src.coherence_state;
    const mapped: Json = {};
    for (const [snake, camel] of COHERENCE_KEYS) if (snake in cs) mapped[camel] = cs[snake];
    if (CoherenceStateSchema.safeParse(mapped).success) {
      for (const [snake] of COHERENCE_KEYS) delete cs[snake];
      out.coherenceState = mapped;
      if (Object.keys(cs).length === 0) delete src.coherence_state;
    }
  }
  if (out.requestId === undefined) {
    out.requestId = `sit-${cryptoId()}`;
    synthesized.push("requestId");
  }
  if (getPath(out, ["action", "target"]) === undefined) {
    setPath(out, ["action", "target"], "");
    synthesized.push("action.target");
  }
  if (out.timestamp === undefined) {
    out.timestamp = now();
    synthesized.push("timestamp");
  }

  // A remainder that came from an R6Request goes back to where it was.
  const r6Extra = src.r6_extra;
  delete src.r6_extra;
  if (isObject(r6Extra)) deepMerge(out, r6Extra);

  if (Object.keys(src).length > 0 || synthesized.length > 0) {
    out.extensions = { ...src, ...(synthesized.length ? { __synthesized: synthesized } : {}) };
  }
  return out as R6Request;
}

export function r6ToSituation(r6: R6Request): Situation {
  const src = clone(r6) as Json;
  const out: Json = {};
  const ext = isObject(src.extensions) ? src.extensions : {};
  delete src.extensions;
  const synthesized = new Set(Array.isArray(ext.__synthesized) ? (ext.__synthesized as string[]) : []);
  delete ext.__synthesized;

  for (const [field, path] of SITUATION_TO_R6) {
    const v = getPath(src, path);
    if (v === undefined) continue;
    const parent = getPath(src, path.slice(0, -1)) as Json | undefined;
    const holder = path.length === 1 ? src : parent;
    if (holder) delete holder[path[path.length - 1]!];
    if (!synthesized.has(path.join("."))) out[field] = v;
  }
  const action = isObject(src.action) ? src.action : {};
  if (typeof action.description === "string") {
    out.details = action.description;
    delete action.description;
  }
  if (isObject(src.coherenceState)) {
    const cs = src.coherenceState;
    const mapped: Json = {};
    for (const [snake, camel] of COHERENCE_KEYS) {
      if (camel in cs) {
        mapped[snake] = cs[camel];
        delete cs[camel];
      }
    }
    out.coherence_state = mapped;
    if (Object.keys(cs).length === 0) delete src.coherenceState;
  }
  // Drop containers the mapping emptied; whatever is left had no counterpart.
  for (const key of ["action", "context"]) {
    if (isObject(src[key]) && Object.keys(src[key] as Json).length === 0) delete src[key];
  }
  // Fields that came from the situation side go back to the top level.
  deepMerge(out, ext);
  if (Object.keys(src).length > 0) {
    out.r6_extra = isObject(out.r6_extra) ? deepMerge(out.r6_extra as Json, src) : src;
  }
  return out as Situation;
}

function cryptoId(): string {
  return globalThis.crypto.randomUUID();
}
