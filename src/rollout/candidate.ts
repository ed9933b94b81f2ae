import type { Advisor } from "../advisor/types.js";
import type { DecisionValue } from "../schemas/common.js";
import type { Versions } from "../schemas/decision.js";
import type { CandidateDecision, CandidateQuery, DecisionRecord } from "../schemas/records.js";
import type { CandidateLog, DecisionLog } from "../store/types.js";

/** A candidate's name from its versions: what a comparison is grouped by. */
export const candidateName = (v: Versions): string =>
  `policy=${v.policy} prompt=${v.prompt ?? "none"} model=${v.model ?? "none"}`;

/**
 * A/B in shadow: the candidate (another prompt or model) decides the same request the current version
 * answered, and its decision is logged beside the record. The server calls this off the critical
 * path, after the current decision is committed; the caller's answer never waits for it.
 */
export async function shadowCandidate(
  store: CandidateLog,
  candidate: Advisor,
  record: Pick<DecisionRecord, "decisionId" | "input">,
  /** The candidate's name (the rollout file's versions.candidate.name); default: from its versions. */
  label?: string,
): Promise<CandidateDecision> {
  const decision = await candidate.advise(record.input);
  const c: CandidateDecision = {
    decisionId: record.decisionId,
    candidate: label ?? candidateName(candidate.versions()),
    createdAt: new Date().toISOString(),
    decision,
  };
  // The request goes along so that its masked values are scrubbed from the candidate's reasoning too.
  await store.appendCandidate(c, record.input);
  return c;
}

export interface CandidateComparison {
  candidate: string;
  compared: number;
  /** Share of requests where the candidate decided as the current version did. */
  agreementWithCurrent: number | null;
  /** On reviewed requests: the candidate's agreement with the reviewers, and the current version's. */
  reviewed: number;
  candidateAgreementWithReviews: number | null;
  currentAgreementWithReviews: number | null;
  /** Reviews where the candidate allowed a high-risk action the reviewer did not. */
  candidateWrongAllowsHighRisk: number;
  changed: {
    decisionId: string;
    current: DecisionValue;
    candidate: DecisionValue;
    reviewed?: DecisionValue;
  }[];
}

const rate = (n: number, d: number): number | null =>
  d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;

/** How a candidate did beside the current version on the same requests: the evidence to promote it. */
export async function compareCandidate(
  store: CandidateLog & DecisionLog,
  q: CandidateQuery & { candidate: string },
): Promise<CandidateComparison> {
  const cands = await store.candidates(q);
  let same = 0;
  let reviewed = 0;
  let candOk = 0;
  let curOk = 0;
  let wrongAllows = 0;
  const changed: CandidateComparison["changed"] = [];
  let compared = 0;
  for (const c of cands) {
    const rec = await store.get(c.decisionId);
    if (!rec) continue;
    compared += 1;
    const cur = rec.decision.decision;
    const cand = c.decision.decision;
    if (cur === cand) same += 1;
    const final = rec.review?.finalDecision;
    if (final !== undefined) {
      reviewed += 1;
      if (cand === final) candOk += 1;
      if (cur === final) curOk += 1;
      if (cand === "allow" && final !== "allow" && ["high", "critical"].includes(c.decision.riskLevel))
        wrongAllows += 1;
    }
    if (cur !== cand)
      changed.push({
        decisionId: c.decisionId,
        current: cur,
        candidate: cand,
        ...(final ? { reviewed: final } : {}),
      });
  }
  return {
    candidate: q.candidate,
    compared,
    agreementWithCurrent: rate(same, compared),
    reviewed,
    candidateAgreementWithReviews: rate(candOk, reviewed),
    currentAgreementWithReviews: rate(curOk, reviewed),
    candidateWrongAllowsHighRisk: wrongAllows,
    changed,
  };
}

export interface CandidateRunnerOptions {
  /** Candidate advisories running at once; beyond this an offered record is dropped, never queued. */
  maxInFlight?: number;
  /** Share of offered records the candidate decides (0..1). */
  sampleRate?: number;
  random?: () => number;
  /** `input`: the request, so that a message quoting it can be masked before it is logged. */
  onError?: (err: unknown, decisionId: string, input: unknown) => void;
}

/**
 * Runs a candidate version beside the live one without slowing it: the server offers each committed
 * record; the runner decides it with the candidate in the background, within a small concurrency bound,
 * and drops (counts) what it cannot take rather than building a backlog.
 */
export class CandidateRunner {
  private inFlight = new Set<Promise<void>>();
  readonly counts = { offered: 0, decided: 0, dropped: 0, failed: 0 };
  private readonly max: number;
  private readonly rate: number;
  private readonly random: () => number;

  constructor(
    private readonly store: CandidateLog,
    private readonly candidate: Advisor,
    readonly label: string,
    private readonly opts: CandidateRunnerOptions = {},
  ) {
    this.max = Math.max(1, opts.maxInFlight ?? 2);
    this.rate = opts.sampleRate ?? 1;
    this.random = opts.random ?? Math.random;
  }

  /** Returns at once; true when the candidate will decide this record. */
  offer(record: Pick<DecisionRecord, "decisionId" | "input">): boolean {
    this.counts.offered += 1;
    if (this.rate < 1 && this.random() >= this.rate) return false;
    if (this.inFlight.size >= this.max) {
      this.counts.dropped += 1;
      return false;
    }
    const p: Promise<void> = shadowCandidate(this.store, this.candidate, record, this.label)
      .then(() => {
        this.counts.decided += 1;
      })
      .catch((err: unknown) => {
        this.counts.failed += 1;
        this.opts.onError?.(err, record.decisionId, record.input);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return true;
  }

  /** Waits for the candidate advisories in flight (shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
