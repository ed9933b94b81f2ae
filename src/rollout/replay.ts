import type { Advisor } from "../advisor/types.js";
import type { DecisionValue } from "../schemas/common.js";
import type { Tier, Versions } from "../schemas/decision.js";
import { InvalidRequestError } from "../schemas/errors.js";
import type { DecisionQuery, DecisionRecord } from "../schemas/records.js";
import { MASKED } from "../store/mask.js";
import type { DecisionLog } from "../store/types.js";

export interface ReplayOptions {
  since?: string;
  until?: string;
  tier?: Tier;
  /** Only decisions whose control differed from the advice. */
  mismatchesOnly?: boolean;
  /** At most this many decisions (the newest). */
  limit?: number;
  /** Advisories in flight at once (an LLM backend's parallelism). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ChangedDecision {
  decisionId: string;
  createdAt: string;
  tier: Tier;
  logged: DecisionValue;
  replayed: DecisionValue;
  control?: DecisionValue;
  reviewed?: DecisionValue;
  /**
   * Against the review: the replayed decision now matches it (fixes), the logged one matched and the
   * replayed does not (breaks), neither matches (still_differs), or there is no review.
   */
  verdict: "fixes_review" | "breaks_review" | "still_differs" | "no_review";
  loggedVersions: Versions;
}

export interface ReplayReport {
  selected: number;
  replayed: number;
  skipped: { decisionId: string; reason: string }[];
  versions: { logged: string[]; replayed: Versions };
  /** Share of replayed decisions equal to the logged one. */
  agreementWithLogged: number | null;
  /** Against the reviewers' final decisions: the candidate's and the logged version's, on the same reviews. */
  agreementWithReviews: number | null;
  loggedAgreementWithReviews: number | null;
  reviewed: number;
  /** Against the callers' controls (shadow). */
  agreementWithControls: number | null;
  loggedAgreementWithControls: number | null;
  withControl: number;
  /** The changed decisions counted by transition (logged -> replayed), most frequent first. */
  transitions: { from: DecisionValue; to: DecisionValue; count: number }[];
  changed: ChangedDecision[];
}

const rate = (n: number, d: number): number | null =>
  d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;

function containsMasked(v: unknown): boolean {
  if (v === MASKED) return true;
  if (Array.isArray(v)) return v.some(containsMasked);
  if (v && typeof v === "object") return Object.values(v).some(containsMasked);
  return false;
}

/**
 * Re-decides logged requests with another advisor (policy, prompt or model) and compares: with the
 * logged decisions, with the reviewers' final decisions and with the callers' controls. Every changed
 * decision is listed. Requests whose masked fields make them undecidable are skipped, with the reason.
 */
export async function replay(
  store: DecisionLog,
  advisor: Advisor,
  opts: ReplayOptions = {},
): Promise<ReplayReport> {
  const q: DecisionQuery = {
    ...(opts.since ? { since: opts.since } : {}),
    ...(opts.until ? { until: opts.until } : {}),
    ...(opts.tier ? { tier: opts.tier } : {}),
    ...(opts.mismatchesOnly ? { mismatchesOnly: true } : {}),
    order: "desc",
    ...(opts.limit ? { limit: opts.limit } : {}),
  };
  const records = (await store.query(q)).reverse();
  const results: (
    | { rec: DecisionRecord; replayed: DecisionValue }
    | { rec: DecisionRecord; error: string }
  )[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < records.length) {
      const rec = records[next++]!;
      try {
        const d = await advisor.advise(rec.input);
        results.push({ rec, replayed: d.decision });
      } catch (err) {
        const masked = containsMasked(rec.input) ? " (the logged request has masked fields)" : "";
        const msg =
          err instanceof InvalidRequestError ? err.message : `advisor failed: ${(err as Error).message}`;
        results.push({ rec, error: `${msg}${masked}` });
      }
      opts.onProgress?.(++done, records.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, worker));
  results.sort((a, b) =>
    a.rec.createdAt < b.rec.createdAt ? -1 : a.rec.createdAt > b.rec.createdAt ? 1 : 0,
  );

  let same = 0;
  let replayed = 0;
  let reviewed = 0;
  let newAgreesReview = 0;
  let oldAgreesReview = 0;
  let withControl = 0;
  let newAgreesControl = 0;
  let oldAgreesControl = 0;
  const skipped: ReplayReport["skipped"] = [];
  const changed: ChangedDecision[] = [];
  const loggedVersions = new Set<string>();
  for (const r of results) {
    if ("error" in r) {
      skipped.push({ decisionId: r.rec.decisionId, reason: r.error });
      continue;
    }
    const { rec } = r;
    const logged = rec.decision.decision;
    const v = rec.decision.versions;
    loggedVersions.add(`policy=${v.policy} prompt=${v.prompt ?? "none"} model=${v.model ?? "none"}`);
    replayed += 1;
    if (r.replayed === logged) same += 1;
    const final = rec.review?.finalDecision;
    if (final !== undefined) {
      reviewed += 1;
      if (r.replayed === final) newAgreesReview += 1;
      if (logged === final) oldAgreesReview += 1;
    }
    if (rec.control !== undefined) {
      withControl += 1;
      if (r.replayed === rec.control) newAgreesControl += 1;
      if (logged === rec.control) oldAgreesControl += 1;
    }
    if (r.replayed !== logged) {
      changed.push({
        decisionId: rec.decisionId,
        createdAt: rec.createdAt,
        tier: rec.tier,
        logged,
        replayed: r.replayed,
        ...(rec.control !== undefined ? { control: rec.control } : {}),
        ...(final !== undefined ? { reviewed: final } : {}),
        verdict:
          final === undefined
            ? "no_review"
            : r.replayed === final
              ? "fixes_review"
              : logged === final
                ? "breaks_review"
                : "still_differs",
        loggedVersions: v,
      });
    }
  }
  const byPair = new Map<string, { from: DecisionValue; to: DecisionValue; count: number }>();
  for (const c of changed) {
    const key = `${c.logged}>${c.replayed}`;
    const t = byPair.get(key) ?? { from: c.logged, to: c.replayed, count: 0 };
    t.count += 1;
    byPair.set(key, t);
  }
  const transitions = [...byPair.values()].sort(
    (a, b) => b.count - a.count || `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`),
  );
  return {
    selected: records.length,
    replayed,
    skipped,
    versions: { logged: [...loggedVersions].sort(), replayed: advisor.versions() },
    agreementWithLogged: rate(same, replayed),
    agreementWithReviews: rate(newAgreesReview, reviewed),
    loggedAgreementWithReviews: rate(oldAgreesReview, reviewed),
    reviewed,
    agreementWithControls: rate(newAgreesControl, withControl),
    loggedAgreementWithControls: rate(oldAgreesControl, withControl),
    withControl,
    transitions,
    changed,
  };
}
