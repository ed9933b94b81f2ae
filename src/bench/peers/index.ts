import { type LoadedPolicy, loadPolicy } from "../../policy/load.js";
import type { DecisionValue } from "../../schemas/common.js";
import { type MeasuredRun, measured, toRun } from "../http.js";
import { runLoad } from "../load.js";
import { type Sidecar, startSidecar } from "../sidecar.js";
import { percentileSorted, round, sortedCopy } from "../stats.js";
import type {
  CerbosPeerResult,
  FailedSection,
  PeerHttpRound,
  PeersBenchResult,
  Progress,
  SkippedSection,
} from "../types.js";
import { type CedarModule, runCedarPeer } from "./cedar.js";
import { type CerbosServer, findCerbos, startCerbos } from "./cerbos.js";
import { cerbosDecision, toCerbosRequest } from "./cerbos-policy.js";
import { compareDecisions, type PeerRequest, peerRequests } from "./requests.js";

export interface PeersBenchOptions {
  progress?: Progress;
  /** Short runs (a second a round): checks the mechanics, the numbers are rough. */
  quick?: boolean;
  rounds?: number;
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  /** Timed in-process decisions per side and round for Cedar. */
  cedarDecisions?: number;
  /** The Cerbos binary (default: POLICY_ADVISOR_CERBOS_BIN, else the npm package); a missing path skips it. */
  cerbosBinary?: string;
  /** A Cerbos policy to load instead of the bench's (tests: a wrong one must fail the check). */
  cerbosPolicy?: string;
  cedarPolicies?: Record<string, string>;
  cedar?: CedarModule | string;
  /** Which peers to run (default both). */
  only?: ReadonlyArray<"cerbos" | "cedar">;
  policy?: LoadedPolicy;
}

/** The target of issue 16: the sidecar at 1.5x Cerbos's requests/s or more, with a p99 no worse. */
export const TARGET_RPS_RATIO = 1.5;

const median = (xs: number[]): number => percentileSorted(sortedCopy(xs), 50);

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: status ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/**
 * `policy-advisor bench --only peers`: the decision services a user would pick instead, each against ours
 * in the same run on the same requests, after checking that both decide every request the same way.
 * Cerbos: its server (the npm binary) on a free loopback port with an equivalent policy on disk and its
 * audit log on, against the sidecar with its decision log on disk (SQLite, cache off), both under the same
 * autocannon load, alternating, three rounds. Cedar: its WebAssembly build in this process against our
 * rules engine, alternating, three rounds. A peer that is not installed is skipped with the reason.
 */
export async function runPeersBench(opts: PeersBenchOptions = {}): Promise<PeersBenchResult> {
  const progress = opts.progress ?? (() => {});
  const quick = opts.quick === true;
  const policy = opts.policy ?? loadPolicy();
  const requests = peerRequests();
  const only = new Set(opts.only ?? ["cerbos", "cedar"]);
  const rounds = opts.rounds ?? 3;
  const skip = (reason: string): SkippedSection => ({ skipped: true, reason });

  const cerbos = only.has("cerbos")
    ? await runCerbosPeer({
        requests,
        progress,
        rounds,
        connections: opts.connections ?? 10,
        durationSec: opts.durationSec ?? (quick ? 1 : 10),
        warmupSec: opts.warmupSec ?? (quick ? 1 : 2),
        bin: findCerbos(opts.cerbosBinary),
        ...(opts.cerbosPolicy !== undefined ? { policyText: opts.cerbosPolicy } : {}),
      })
    : skip("not selected");
  const cedar = only.has("cedar")
    ? await runCedarPeer({
        policy,
        requests,
        progress,
        rounds,
        decisions: opts.cedarDecisions ?? (quick ? 2000 : 10_000),
        ...(opts.cedarPolicies ? { policies: opts.cedarPolicies } : {}),
        ...(opts.cedar !== undefined ? { cedar: opts.cedar } : {}),
      })
    : skip("not selected");
  return { requestIds: requests.map((r) => r.id), cerbos, cedar };
}

interface CerbosPeerOptions {
  requests: readonly PeerRequest[];
  progress: Progress;
  rounds: number;
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** The binary, or "skip: why not". */
  bin: string;
  policyText?: string;
}

async function runCerbosPeer(
  o: CerbosPeerOptions,
): Promise<CerbosPeerResult | SkippedSection | FailedSection> {
  const { progress, requests } = o;
  if (o.bin.startsWith("skip: ")) {
    const reason = o.bin.slice("skip: ".length);
    progress(`peers: cerbos: skipped: ${reason}`);
    return { skipped: true, reason };
  }
  progress("peers: starting the sidecar (decision log on disk, cache off) and Cerbos (audit log on)");
  let sidecar: Sidecar | undefined;
  let server: CerbosServer | undefined;
  try {
    sidecar = await startSidecar({ cache: false });
    server = await startCerbos(o.bin, ...(o.policyText !== undefined ? [o.policyText] : []));
    const oursBodies = requests.map((r) => r.situation);
    const peerBodies = requests.map((r) => toCerbosRequest(r.id, r.situation));
    const ours: DecisionValue[] = [];
    const peer: string[] = [];
    for (let i = 0; i < requests.length; i++) {
      const d = (await postJson(`${sidecar.url}/v1/advisory`, oursBodies[i])) as { decision: DecisionValue };
      ours.push(d.decision);
      peer.push(
        cerbosDecision(
          await postJson(`${server.url}/api/check/resources`, peerBodies[i]),
          requests[i]!.situation.action_type,
        ),
      );
    }
    const check = compareDecisions(requests, ours, peer);
    if (check.mismatches.length > 0) {
      const reason = `Cerbos decides ${check.mismatches.length} of ${requests.length} benchmark requests differently: ${check.mismatches.map((m) => `${m.id} ours ${m.ours}, Cerbos ${m.peer}`).join("; ")}`;
      progress(`peers: cerbos: FAILED: ${reason}`);
      return { failed: true, reason, mismatches: check.mismatches };
    }
    progress(
      `peers: cerbos ${server.version}: the same decision on all ${requests.length} requests; ${o.rounds} rounds of ` +
        `${o.durationSec}s each side, ${o.connections} connections, alternating`,
    );

    const oursLoad = (seconds: number) =>
      runLoad({
        url: (sidecar as Sidecar).url,
        path: "/v1/advisory",
        bodies: oursBodies,
        connections: o.connections,
        durationSec: seconds,
      });
    const peerLoad = (seconds: number) =>
      runLoad({
        url: (server as CerbosServer).url,
        path: "/api/check/resources",
        bodies: peerBodies,
        connections: o.connections,
        durationSec: seconds,
      });
    await oursLoad(o.warmupSec);
    await peerLoad(o.warmupSec);
    const runOurs = () => measured((sidecar as Sidecar).child.pid, () => oursLoad(o.durationSec));
    const runPeer = () => measured((server as CerbosServer).child.pid, () => peerLoad(o.durationSec));

    const results: PeerHttpRound[] = [];
    const notes: string[] = [];
    for (let r = 0; r < o.rounds; r++) {
      // Alternate which side goes first, so a drift in the machine's load does not favour one.
      const oursFirst = r % 2 === 0;
      let a: MeasuredRun;
      let b: MeasuredRun;
      if (oursFirst) {
        a = await runOurs();
        b = await runPeer();
      } else {
        b = await runPeer();
        a = await runOurs();
      }
      for (const [name, run] of [
        ["ours", a],
        ["cerbos", b],
      ] as const) {
        const bad = run.requests - run.ok;
        if (bad > 0 || run.errors > 0)
          notes.push(
            `round ${r + 1}, ${name}: ${bad} answers not 2xx, ${run.errors} errors: ${JSON.stringify(run.statusCodes)}`,
          );
      }
      const round_: PeerHttpRound = {
        order: oursFirst ? "ours, cerbos" : "cerbos, ours",
        ours: toRun(a),
        peer: toRun(b),
        rpsRatio: round(b.rps > 0 ? a.rps / b.rps : 0, 2),
        cpuRatio:
          a.cpuUsPerRequest && b.cpuUsPerRequest ? round(b.cpuUsPerRequest / a.cpuUsPerRequest, 2) : null,
      };
      results.push(round_);
      progress(
        `peers: cerbos round ${r + 1}/${o.rounds} (${round_.order}): ours ${round(a.rps, 0)} req/s p99 ${a.p99Ms} ms ` +
          `${a.cpuUsPerRequest ?? "?"} us CPU; Cerbos ${round(b.rps, 0)} req/s p99 ${b.p99Ms} ms ${b.cpuUsPerRequest ?? "?"} us CPU: ${round_.rpsRatio}x`,
      );
    }
    const cpu = (xs: Array<number | null>) => {
      const known = xs.filter((x): x is number => x !== null);
      return known.length === xs.length ? median(known) : null;
    };
    const rpsRatio = median(results.map((x) => x.rpsRatio));
    const p99Ms = median(results.map((x) => x.ours.p99Ms));
    const peerP99Ms = median(results.map((x) => x.peer.p99Ms));
    const roundsMet = results.filter(
      (x) => x.rpsRatio >= TARGET_RPS_RATIO && x.ours.p99Ms <= x.peer.p99Ms,
    ).length;
    return {
      version: server.version,
      requests: requests.length,
      distribution: check.distribution,
      equivalent: true,
      connections: o.connections,
      durationSec: o.durationSec,
      rounds: results,
      rps: median(results.map((x) => x.ours.rps)),
      peerRps: median(results.map((x) => x.peer.rps)),
      rpsRatio,
      p50Ms: median(results.map((x) => x.ours.p50Ms)),
      peerP50Ms: median(results.map((x) => x.peer.p50Ms)),
      p99Ms,
      peerP99Ms,
      cpuUsPerDecision: cpu(results.map((x) => x.ours.serverCpuUsPerRequest)),
      peerCpuUsPerDecision: cpu(results.map((x) => x.peer.serverCpuUsPerRequest)),
      cpuRatio: cpu(results.map((x) => x.cpuRatio)),
      targets: [
        {
          name: "requests/s vs Cerbos",
          detail: `${rpsRatio}x Cerbos's (median of ${results.length} rounds; target >= ${TARGET_RPS_RATIO}x)`,
          met: rpsRatio >= TARGET_RPS_RATIO,
        },
        {
          name: "p99 vs Cerbos",
          detail: `${p99Ms} ms against Cerbos's ${peerP99Ms} ms (medians; target: no worse)`,
          met: p99Ms <= peerP99Ms,
        },
        {
          name: "rounds meeting both",
          detail: `${roundsMet} of ${results.length}`,
          met: roundsMet === results.length,
        },
      ],
      notes,
    };
  } catch (e) {
    const reason = `the comparison could not run: ${(e as Error).message}`;
    progress(`peers: cerbos: FAILED: ${reason}`);
    return { failed: true, reason, mismatches: [] };
  } finally {
    await server?.stop();
    await sidecar?.stop();
  }
}
