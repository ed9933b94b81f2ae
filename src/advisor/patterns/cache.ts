import { LRUCache } from "lru-cache";
import { localTime } from "../../engine/time.js";
import type { EngineVerdict } from "../../engine/types.js";
import type { PolicyDocument } from "../../policy/schema.js";
import type { Decision, Versions } from "../../schemas/decision.js";
import type { Situation } from "../../schemas/situation.js";
import { canonicalJson, contentHash } from "../../util/hash.js";

export interface DecisionCacheOptions {
  /** Most entries kept (least recently used go first). */
  max: number;
  /** How long an entry is served, in milliseconds. */
  ttlMs: number;
}

export interface CacheStats {
  enabled: boolean;
  size: number;
  hits: number;
  misses: number;
  hitRate: number | null;
}

/**
 * Fields that identify one request but never change the verdict: two requests that differ only there
 * get the same answer. The actor id stays in the key: R6Requests take the role from the actor directory.
 */
const IDENTITY_ONLY = new Set(["request_id", "session_id"]);

/**
 * The local weekday and hour of the request in the policy's time zone: the working-hours signal
 * depends on them, so a request at 03:00 must not be answered from one at 10:00. Whole hours suffice
 * because working hours are whole hours. A request without a timestamp is judged at the current time.
 */
export function hourBucket(timestamp: string | undefined, timeZone: string, now: Date = new Date()): string {
  const at = timestamp === undefined ? now : new Date(timestamp);
  if (Number.isNaN(at.getTime())) throw new RangeError(`Invalid time value: "${timestamp}"`);
  // The engine's reading of local time (offsets memoised per zone and quarter hour), so that the cache and
  // the working-hours signal can never disagree on what hour a request falls in.
  const local = localTime(at, timeZone);
  return `${WEEKDAY_NAMES[local.weekday]}@${String(Math.floor(local.hour)).padStart(2, "0")}`;
}

const WEEKDAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/**
 * The cache key of a situation: its content without identity-only fields, the timestamp as an hour bucket
 * in the policy's zone, and the rules' verdict on it (decision, classification, risk, every signal with
 * its detail, the facts). An answer is served only to a request the rules judge identically: a request at
 * 19:02 in a team's stated 10:00-19:00 carries an off-hours signal that one at 18:58 does not, so the two
 * never share an entry, whatever zone or half-hour offset the hours are stated in.
 */
export function cacheKey(
  situation: Situation,
  policy: PolicyDocument,
  verdict?: EngineVerdict,
  now?: Date,
): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(situation)) {
    if (IDENTITY_ONLY.has(k) || k === "timestamp") continue;
    rest[k] = v;
  }
  rest.__when = hourBucket(situation.timestamp, policy.workingHours.timeZone, now);
  if (verdict) {
    rest.__verdict = {
      decision: verdict.decision,
      classification: verdict.classification,
      risk: verdict.riskLevel,
      signals: verdict.signals,
      facts: verdict.facts,
    };
  }
  return contentHash(canonicalJson(rest));
}

export const versionsKey = (v: Versions): string => `${v.policy}|${v.prompt ?? "-"}|${v.model ?? "-"}`;

/**
 * LRU with TTL of confident decisions. The whole cache belongs to one (policy, prompt, model) version
 * triple: when any of them changes, every entry is dropped, since each was decided under the old one.
 */
export class DecisionCache {
  private readonly lru: LRUCache<string, Decision>;
  private versions: string | undefined;
  private hitCount = 0;
  private missCount = 0;

  constructor(readonly opts: DecisionCacheOptions) {
    this.lru = new LRUCache<string, Decision>({ max: opts.max, ttl: opts.ttlMs, ttlAutopurge: false });
  }

  /** Empties the cache when the versions differ from those its entries were decided under. Returns true if it did. */
  syncVersions(v: Versions): boolean {
    const key = versionsKey(v);
    if (this.versions === key) return false;
    const hadEntries = this.versions !== undefined;
    this.versions = key;
    this.lru.clear();
    return hadEntries;
  }

  /** A cached decision re-issued under a new id, marked source "cache"; counted as a hit or a miss. */
  lookup(key: string, decisionId: string, startedAt: number): Decision | undefined {
    const hit = this.lru.get(key);
    if (!hit) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    return {
      ...structuredClone(hit),
      decisionId,
      source: "cache",
      latencyMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
    };
  }

  /** Keeps a decision only when every input was clear and it is a real answer, not a fallback. */
  store(key: string, decision: Decision, verdict: EngineVerdict): boolean {
    if (!verdict.facts.confident || decision.source === "fallback" || decision.source === "cache")
      return false;
    this.lru.set(key, structuredClone(decision));
    return true;
  }

  clear(): void {
    this.lru.clear();
  }

  stats(): CacheStats {
    const total = this.hitCount + this.missCount;
    return {
      enabled: true,
      size: this.lru.size,
      hits: this.hitCount,
      misses: this.missCount,
      hitRate: total === 0 ? null : this.hitCount / total,
    };
  }
}
