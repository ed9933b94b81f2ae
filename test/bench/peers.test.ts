import { describe, expect, it } from "vitest";
import { formatBench } from "../../src/bench/format.js";
import { machineInfo } from "../../src/bench/machine.js";
import { loadCedar } from "../../src/bench/peers/cedar.js";
import { CEDAR_POLICIES } from "../../src/bench/peers/cedar-policy.js";
import { findCerbos } from "../../src/bench/peers/cerbos.js";
import { CERBOS_POLICY } from "../../src/bench/peers/cerbos-policy.js";
import { runPeersBench } from "../../src/bench/peers/index.js";
import { peerRequests } from "../../src/bench/peers/requests.js";
import { isFailed, isSkipped, type PeersBenchResult } from "../../src/bench/types.js";

/**
 * `bench --only peers`: the mechanics on short runs. The peers are optional dev dependencies: where one is
 * not installed its test says why and skips. What the numbers are is for `bench` to say, not for a test.
 */

const cerbosBin = findCerbos();
const cedar = await loadCedar();

const table = (peers: PeersBenchResult) =>
  formatBench({ machine: "test", machineInfo: machineInfo(), startedAt: "", durationSec: 0, peers });

describe("bench peers", () => {
  it("the benchmark requests reach all three decisions", () => {
    const ids = peerRequests().map((r) => r.id);
    expect(ids.slice(0, 8)).toEqual(["E01", "E02", "M01", "M02", "H01", "H02", "EC01", "EC02"]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a peer that is not installed is skipped with the reason", async () => {
    const lines: string[] = [];
    const r = await runPeersBench({
      only: ["cerbos", "cedar"],
      cerbosBinary: "/nonexistent/cerbos",
      cedar: "@cedar-policy/cedar-wasm is not installed",
      progress: (m) => lines.push(m),
    });
    expect(isSkipped(r.cerbos) && r.cerbos.reason).toMatch(/\/nonexistent\/cerbos does not exist/);
    expect(isSkipped(r.cedar) && r.cedar.reason).toMatch(/not installed/);
    expect(lines.some((l) => l.startsWith("peers: cerbos: skipped:"))).toBe(true);
    expect(table(r)).toMatch(/cerbos: skipped/);
  });

  it("Cedar: decisions checked equivalent before timing, then alternating rounds", async (ctx) => {
    if (typeof cedar === "string") {
      console.log(`skipped: ${cedar}`);
      ctx.skip();
      return;
    }
    const r = await runPeersBench({ only: ["cedar"], quick: true, cedarDecisions: 300, cedar });
    const c = r.cedar;
    if (isSkipped(c) || isFailed(c)) throw new Error(`cedar: ${c.reason}`);
    expect(c.equivalent).toBe(true);
    expect(c.requests).toBe(peerRequests().length);
    expect(Object.keys(c.distribution).sort()).toEqual(["allow", "deny", "require_attestation"]);
    expect(c.rounds.map((x) => x.order)).toEqual(["ours, cedar", "cedar, ours", "ours, cedar"]);
    expect(c.latencyRatio).toBeGreaterThan(0);
    expect(c.oursMedianUs).toBeGreaterThan(0);
    expect(table(r)).toMatch(/Cedar \/ ours per decision/);
  });

  it("Cedar: a policy set that decides a request differently fails the section and names it", async (ctx) => {
    if (typeof cedar === "string") {
      console.log(`skipped: ${cedar}`);
      ctx.skip();
      return;
    }
    // A blanket attesting permit: E02 (a developer deleting a team, which no rule allows) becomes an attestation.
    const wrong = { ...CEDAR_POLICIES, "attest-everything": "permit (principal, action, resource);" };
    const lines: string[] = [];
    const r = await runPeersBench({
      only: ["cedar"],
      quick: true,
      cedar,
      cedarPolicies: wrong,
      progress: (m) => lines.push(m),
    });
    expect(isFailed(r.cedar)).toBe(true);
    if (!isFailed(r.cedar)) return;
    expect(r.cedar.mismatches).toContainEqual({ id: "E02", ours: "deny", peer: "require_attestation" });
    expect(r.cedar.reason).toMatch(/E02 ours deny, Cedar require_attestation/);
    // Nothing was timed.
    expect(lines.some((l) => l.includes("round"))).toBe(false);
    expect(table(r)).toMatch(/FAILED/);
  });

  it("Cerbos: the server starts, decides every request as ours does, then alternating rounds", async (ctx) => {
    if (cerbosBin.startsWith("skip: ")) {
      console.log(`skipped: ${cerbosBin.slice(6)}`);
      ctx.skip();
      return;
    }
    const r = await runPeersBench({ only: ["cerbos"], rounds: 2, durationSec: 1, warmupSec: 1 });
    const c = r.cerbos;
    if (isSkipped(c) || isFailed(c)) throw new Error(`cerbos: ${c.reason}`);
    expect(c.equivalent).toBe(true);
    expect(c.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(c.rounds.map((x) => x.order)).toEqual(["ours, cerbos", "cerbos, ours"]);
    for (const round of c.rounds) {
      expect(round.ours.rps).toBeGreaterThan(0);
      expect(round.peer.rps).toBeGreaterThan(0);
      expect(round.ours.statusCodes).toEqual({ "200": round.ours.requests });
      expect(round.peer.statusCodes).toEqual({ "200": round.peer.requests });
      // CPU per decision from /proc for both server processes.
      expect(round.ours.serverCpuUsPerRequest).toBeGreaterThan(0);
      expect(round.peer.serverCpuUsPerRequest).toBeGreaterThan(0);
    }
    expect(c.rpsRatio).toBeGreaterThan(0);
    expect(c.targets.map((t) => t.name)).toEqual([
      "requests/s vs Cerbos",
      "p99 vs Cerbos",
      "rounds meeting both",
    ]);
  }, 60_000);

  it("Cerbos: a policy that decides a request differently fails the section before any load", async (ctx) => {
    if (cerbosBin.startsWith("skip: ")) {
      console.log(`skipped: ${cerbosBin.slice(6)}`);
      ctx.skip();
      return;
    }
    // Developers may deploy in this policy: X07 (a developer deploying) becomes an allow.
    const wrong = CERBOS_POLICY.replace(
      "roles: [deployer, admin, ci_bot]\n    - name: admin-by-role",
      "roles: [developer, deployer, admin, ci_bot]\n    - name: admin-by-role",
    );
    expect(wrong).not.toBe(CERBOS_POLICY);
    const lines: string[] = [];
    const r = await runPeersBench({ only: ["cerbos"], cerbosPolicy: wrong, progress: (m) => lines.push(m) });
    expect(isFailed(r.cerbos)).toBe(true);
    if (!isFailed(r.cerbos)) return;
    expect(r.cerbos.mismatches).toContainEqual({ id: "X07-developer-deploys", ours: "deny", peer: "allow" });
    expect(lines.some((l) => l.includes("round"))).toBe(false);
  }, 60_000);
});
