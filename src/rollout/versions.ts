import type { Gate, VersionEvent, VersionSpec } from "../schemas/rollout.js";
import type { CandidateLog, DecisionLog, VersionEventLog } from "../store/types.js";

/** What the version stack and the candidate's comparison read and write. */
export type VersionStore = VersionEventLog & CandidateLog & DecisionLog;

import { type CandidateComparison, compareCandidate } from "./candidate.js";
import type { RolloutConfig } from "./config.js";
import { RolloutError } from "./errors.js";

export interface VersionStatus {
  /** The version to serve: the last promoted one, else the rollout file's versions.current. */
  active: VersionSpec | null;
  /** What `rollout version rollback` returns to. */
  previous: VersionSpec | null;
  candidate: VersionSpec | null;
  comparison: CandidateComparison | null;
  gates: Gate[];
  mayPromote: boolean;
  /** Newest first. */
  history: VersionEvent[];
}

/**
 * The version stack: the configured current version at the bottom, each promotion pushes, each
 * rollback pops. So the previous version stays known and rolling back is one command, twice if need be.
 */
function stackOf(config: RolloutConfig, events: readonly VersionEvent[]): VersionSpec[] {
  const stack: VersionSpec[] = config.versions.current ? [config.versions.current] : [];
  for (const e of events) {
    if (e.kind === "promote") stack.push(e.to);
    else if (stack.length > 0) stack.pop();
  }
  return stack;
}

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);

export async function versionStatus(
  store: VersionStore,
  config: RolloutConfig,
  now = Date.now(),
): Promise<VersionStatus> {
  const events = await store.versionEvents();
  const stack = stackOf(config, events);
  const active = stack.at(-1) ?? null;
  const previous = stack.at(-2) ?? null;
  const candidate = config.versions.candidate ?? null;
  const gates: Gate[] = [];
  let comparison: CandidateComparison | null = null;
  if (candidate) {
    comparison = await compareCandidate(store, {
      candidate: candidate.name,
      since: new Date(now - config.gates.window).toISOString(),
    });
    const g = config.gates;
    gates.push({
      name: "candidate_differs",
      passed: candidate.name !== active?.name,
      detail:
        candidate.name === active?.name
          ? `${candidate.name} is already live`
          : `${candidate.name} is not live`,
    });
    gates.push({
      name: "comparison_sample",
      passed: comparison.compared >= g.minSample,
      detail: `${comparison.compared} requests decided by both versions (need ${g.minSample})`,
    });
    gates.push({
      name: "not_worse_on_reviews",
      passed:
        comparison.reviewed > 0 &&
        (comparison.candidateAgreementWithReviews ?? 0) >= (comparison.currentAgreementWithReviews ?? 0),
      detail:
        comparison.reviewed === 0
          ? "no reviewed request among the compared ones"
          : `candidate agrees with ${pct(comparison.candidateAgreementWithReviews)} of ${comparison.reviewed} reviews, current with ${pct(comparison.currentAgreementWithReviews)}`,
    });
    gates.push({
      name: "no_wrong_allows_high_risk",
      passed: comparison.candidateWrongAllowsHighRisk <= g.maxWrongAllowsHighRisk,
      detail: `${comparison.candidateWrongAllowsHighRisk} high-risk allow(s) by the candidate that reviewers refused`,
    });
  }
  return {
    active,
    previous,
    candidate,
    comparison,
    gates,
    mayPromote: candidate !== null && gates.every((x) => x.passed),
    history: [...events].reverse(),
  };
}

/** Makes the candidate the live version (after its shadow comparison passed the gates, or forced). */
export async function promoteVersion(
  store: VersionStore,
  config: RolloutConfig,
  by: string,
  note: string,
  force = false,
): Promise<VersionStatus> {
  const st = await versionStatus(store, config);
  if (!st.candidate)
    throw new RolloutError(
      "no_next_mode",
      "no candidate version: set versions.candidate in the rollout file",
    );
  const failing = st.gates.filter((g) => !g.passed);
  if (failing.length > 0 && !force) {
    throw new RolloutError(
      "gates_not_passed",
      `cannot promote version ${st.candidate.name}: ${failing.map((g) => `${g.name} (${g.detail})`).join("; ")}`,
    );
  }
  const reason =
    failing.length > 0 ? `${note} [forced past: ${failing.map((g) => g.name).join(", ")}]` : note;
  await store.appendVersionEvent({
    at: new Date().toISOString(),
    kind: "promote",
    from: st.active,
    to: st.candidate,
    by,
    reason,
  });
  return versionStatus(store, config);
}

/** Returns to the previous version: one command. */
export async function rollbackVersion(
  store: VersionStore,
  config: RolloutConfig,
  by: string,
  reason: string,
): Promise<VersionStatus> {
  const st = await versionStatus(store, config);
  if (!st.active || !st.previous) {
    throw new RolloutError("invalid_rollback", "no previous version to roll back to (nothing was promoted)");
  }
  await store.appendVersionEvent({
    at: new Date().toISOString(),
    kind: "rollback",
    from: st.active,
    to: st.previous,
    by,
    reason,
  });
  return versionStatus(store, config);
}
