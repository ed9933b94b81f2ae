import { createEngine } from "../../engine/index.js";
import type { LoadedPolicy } from "../../policy/load.js";
import { parseRequest } from "../../schemas/request.js";
import type { Situation as ParsedSituation } from "../../schemas/situation.js";
import { percentileSorted, round, sortedCopy } from "../stats.js";
import type { CedarPeerResult, FailedSection, Progress, SkippedSection } from "../types.js";
import { CEDAR_POLICIES, type CedarCall, cedarDecision, toCedarCall } from "./cedar-policy.js";
import { compareDecisions, type PeerRequest } from "./requests.js";

export const CEDAR_PACKAGE = "@cedar-policy/cedar-wasm";

interface CedarAnswer {
  type: "success" | "failure";
  response?: { decision: string; diagnostics: { reason: string[]; errors: unknown[] } };
  errors?: Array<{ message: string }>;
}

/** The part of @cedar-policy/cedar-wasm the bench uses. */
export interface CedarModule {
  getCedarVersion(): string;
  preparsePolicySet(id: string, policies: { staticPolicies: Record<string, string> }): CedarAnswer;
  statefulIsAuthorized(call: CedarCall & { preparsedPolicySetId: string }): CedarAnswer;
}

/** The wasm build for Node, or a sentence saying why it cannot be loaded. */
export async function loadCedar(): Promise<CedarModule | string> {
  try {
    // A variable specifier: the package is an optional dev dependency, absent from a production install.
    const spec = `${CEDAR_PACKAGE}/nodejs`;
    return (await import(spec)) as CedarModule;
  } catch (e) {
    return `${CEDAR_PACKAGE} is not installed (an optional dev dependency: npm install --include=dev): ${(e as Error).message.split("\n")[0]}`;
  }
}

export interface CedarPeerOptions {
  policy: LoadedPolicy;
  requests: readonly PeerRequest[];
  progress: Progress;
  /** Timed decisions per side and round. */
  decisions: number;
  rounds: number;
  /** A policy set to use instead of the bench's (tests: a wrong one must fail the check). */
  policies?: Record<string, string>;
  cedar?: CedarModule | string;
}

const POLICY_SET_ID = "policy-advisor-bench";

/**
 * Our rules engine against Cedar's WebAssembly build, in this process, on the same requests: the
 * decisions are compared first (a mismatch fails the section, nothing is timed), then each side decides
 * `decisions` requests one at a time, alternating sides, `rounds` times.
 */
export async function runCedarPeer(
  opts: CedarPeerOptions,
): Promise<CedarPeerResult | SkippedSection | FailedSection> {
  const { progress, requests } = opts;
  const cedar = opts.cedar ?? (await loadCedar());
  if (typeof cedar === "string") {
    progress(`peers: cedar: skipped: ${cedar}`);
    return { skipped: true, reason: cedar };
  }
  const parsed = cedar.preparsePolicySet(POLICY_SET_ID, { staticPolicies: opts.policies ?? CEDAR_POLICIES });
  if (parsed.type !== "success") {
    const reason = `the Cedar policy set does not parse: ${(parsed.errors ?? []).map((e) => e.message).join("; ")}`;
    progress(`peers: cedar: FAILED: ${reason}`);
    return { failed: true, reason, mismatches: [] };
  }
  const engine = createEngine(opts.policy);
  const situations: ParsedSituation[] = requests.map((r) => parseRequest(r.situation).situation);
  const calls = requests.map((r) => ({ ...toCedarCall(r.situation), preparsedPolicySetId: POLICY_SET_ID }));
  const decideCedar = (i: number) => {
    const a = cedar.statefulIsAuthorized(calls[i]!);
    if (a.type !== "success" || !a.response)
      return `failure: ${(a.errors ?? []).map((e) => e.message).join("; ")}`;
    if (a.response.diagnostics.errors.length > 0)
      return `policy errors: ${JSON.stringify(a.response.diagnostics.errors).slice(0, 200)}`;
    return cedarDecision(a.response.decision, a.response.diagnostics.reason);
  };

  const check = compareDecisions(
    requests,
    situations.map((s) => engine.evaluate(s).decision),
    requests.map((_, i) => decideCedar(i)),
  );
  if (check.mismatches.length > 0) {
    const reason = `Cedar decides ${check.mismatches.length} of ${requests.length} benchmark requests differently: ${check.mismatches.map((m) => `${m.id} ours ${m.ours}, Cedar ${m.peer}`).join("; ")}`;
    progress(`peers: cedar: FAILED: ${reason}`);
    return { failed: true, reason, mismatches: check.mismatches };
  }
  progress(
    `peers: cedar ${cedar.getCedarVersion()}: the same decision on all ${requests.length} requests; timing ` +
      `${opts.decisions} decisions a side, ${opts.rounds} rounds, alternating`,
  );

  const n = requests.length;
  let sink = 0;
  const time = (decide: (i: number) => number, count = opts.decisions): Float64Array => {
    const samples = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      const i = k % n;
      const t0 = process.hrtime.bigint();
      sink += decide(i);
      samples[k] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    return sortedCopy(samples);
  };
  const ours = (i: number) => engine.evaluate(situations[i]!).reasoning.roleCheck.length;
  // The same engine with the request's validation (zod), as the advisor runs it on a body it received.
  const oursValidated = (i: number) =>
    engine.evaluate(parseRequest(requests[i]!.situation).situation).reasoning.roleCheck.length;
  const peer = (i: number) => {
    const a = cedar.statefulIsAuthorized(calls[i]!);
    return a.response?.diagnostics.reason.length ?? 0;
  };
  // Warm-up: JIT for ours, the wasm instance's first allocations for Cedar.
  const warm = Math.min(opts.decisions, 2000);
  time(ours, warm);
  time(oursValidated, warm);
  time(peer, warm);

  const rounds: CedarPeerResult["rounds"] = [];
  for (let r = 0; r < opts.rounds; r++) {
    // Alternate which side goes first, so a drift in the machine's load does not favour one.
    const first = r % 2 === 0 ? "ours" : "cedar";
    const a = first === "ours" ? time(ours) : time(peer);
    const b = first === "ours" ? time(peer) : time(ours);
    const o = first === "ours" ? a : b;
    const p = first === "ours" ? b : a;
    const v = time(oursValidated);
    const oursMedian = percentileSorted(o, 50);
    const peerMedian = percentileSorted(p, 50);
    rounds.push({
      order: first === "ours" ? "ours, cedar" : "cedar, ours",
      oursMedianUs: round(oursMedian),
      oursP99Us: round(percentileSorted(o, 99)),
      oursValidatedMedianUs: round(percentileSorted(v, 50)),
      peerMedianUs: round(peerMedian),
      peerP99Us: round(percentileSorted(p, 99)),
      latencyRatio: round(peerMedian / oursMedian, 2),
    });
    progress(
      `peers: cedar round ${r + 1}/${opts.rounds}: ours median ${round(oursMedian)} us (validated ${round(percentileSorted(v, 50))} us), ` +
        `Cedar ${round(peerMedian)} us: ${round(peerMedian / oursMedian, 1)}x`,
    );
  }
  if (sink < 0) progress("unreachable"); // keeps the timed work observable
  const med = (xs: number[]) => percentileSorted(sortedCopy(xs), 50);
  const latencyRatio = med(rounds.map((x) => x.latencyRatio));
  const validated = med(rounds.map((x) => x.oursValidatedMedianUs));
  const peerMedian = med(rounds.map((x) => x.peerMedianUs));
  return {
    version: cedar.getCedarVersion(),
    requests: n,
    distribution: check.distribution,
    equivalent: true,
    decisionsPerRound: opts.decisions,
    oursMedianUs: med(rounds.map((x) => x.oursMedianUs)),
    oursP99Us: med(rounds.map((x) => x.oursP99Us)),
    oursValidatedMedianUs: validated,
    peerMedianUs: peerMedian,
    peerP99Us: med(rounds.map((x) => x.peerP99Us)),
    latencyRatio,
    validatedLatencyRatio: round(peerMedian / validated, 2),
    rounds,
    notes: [
      "in-process, one decision at a time; ours is engine.evaluate on a validated situation, Cedar is " +
        "statefulIsAuthorized on a prepared call against the pre-parsed policy set (the JS-to-wasm conversion of " +
        "the call is part of every Cedar decision); latencyRatio is Cedar's median over ours, the median of the rounds",
    ],
  };
}
