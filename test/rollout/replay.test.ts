import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import type { Advisor } from "../../src/advisor/types.js";
import { DEFAULT_POLICY_PATH, parsePolicy } from "../../src/policy/load.js";
import {
  buildReport,
  compareCandidate,
  computeStats,
  replay,
  shadowCandidate,
} from "../../src/rollout/index.js";
import type { DecisionRecord } from "../../src/schemas/records.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";

const dir = mkdtempSync(join(tmpdir(), "pa-replay-"));
let store: DecisionStore;
let current: Advisor;
let strict: Advisor;
const records: DecisionRecord[] = [];

const commit = (i: number, trust: number) => ({
  action_type: "commit",
  actor_role: "developer",
  actor_id: `user:d${i}`,
  t3_tensor: { competence: trust, reliability: trust, integrity: trust },
  resource: "src/app.ts",
  timestamp: "2026-03-03T15:00:00Z",
});

/** Twenty commits decided by the default policy; a stricter policy (writes need 0.9) changes the low-trust ones. */
beforeAll(async () => {
  store = await openStore(join(dir, "log.db"), { mask: ["secret"] });
  current = createAdvisor();
  const text = readFileSync(DEFAULT_POLICY_PATH, "utf8").replace(/threshold: 0\.5\b/, "threshold: 0.9");
  strict = createAdvisor({ policy: parsePolicy(text, "strict.yaml") });
  for (let i = 0; i < 20; i++) {
    const input = { ...commit(i, i < 10 ? 0.7 : 0.95), ...(i === 19 ? { secret: "x" } : {}) };
    const d = await current.advise(input);
    const rec: DecisionRecord = {
      decisionId: d.decisionId,
      createdAt: new Date(Date.now() - (20 - i) * 3_600_000).toISOString(),
      input,
      shape: "situation",
      decision: d,
      mode: "advisory",
      tier: d.tier ?? "write",
      effectiveDecision: d.decision,
    };
    records.push(rec);
    await store.append(rec);
  }
  // A request whose trust was masked can no longer be decided.
  const masked = {
    ...records[0]!,
    decisionId: "masked-1",
    input: { ...commit(99, 0.7), t3_tensor: "[masked]" },
  };
  await store.append(masked);
  // Reviewers: the first low-trust commit should have been denied; the second was right.
  await store.review(records[0]!.decisionId, {
    reviewer: "r",
    finalDecision: "deny",
    category: "too_permissive",
    reviewedAt: new Date().toISOString(),
  });
  await store.review(records[15]!.decisionId, {
    reviewer: "r",
    finalDecision: "allow",
    category: "agree",
    reviewedAt: new Date().toISOString(),
  });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("replay", () => {
  it("re-decides with another policy and lists every change, judged against the reviews", async () => {
    const rep = await replay(store, strict, { tier: "write" });
    expect(rep.selected).toBe(21);
    expect(rep.replayed).toBe(20);
    expect(rep.skipped).toEqual([
      { decisionId: "masked-1", reason: expect.stringMatching(/t3_tensor.*masked fields/) },
    ]);
    const low = new Set(records.slice(0, 10).map((r) => r.decisionId));
    expect(rep.changed.map((c) => c.decisionId).sort()).toEqual([...low].sort());
    expect(rep.changed.every((c) => c.logged === "allow" && c.replayed !== "allow")).toBe(true);
    expect(rep.agreementWithLogged).toBe(0.5);
    const first = rep.changed.find((c) => c.decisionId === records[0]!.decisionId);
    expect(first?.verdict).toBe(first?.replayed === "deny" ? "fixes_review" : "still_differs");
    expect(rep.reviewed).toBe(2);
    expect(rep.loggedAgreementWithReviews).toBe(0.5);
    expect(rep.versions.replayed.policy).toBe(strict.policy.revision);
    const same = await replay(store, current, { tier: "write", limit: 5 });
    expect(same.agreementWithLogged).toBe(1);
    expect(same.changed).toEqual([]);
  });
});

describe("candidate beside the current version", () => {
  it("records the candidate's decisions and compares them with the current ones and the reviews", async () => {
    for (const r of records) await shadowCandidate(store, strict, r);
    const name = (await store.candidates({}))[0]!.candidate;
    expect(name).toBe(`policy=${strict.policy.revision} prompt=none model=none`);
    const cmp = await compareCandidate(store, { candidate: name });
    expect(cmp.compared).toBe(20);
    expect(cmp.agreementWithCurrent).toBe(0.5);
    expect(cmp.changed).toHaveLength(10);
    expect(cmp.reviewed).toBe(2);
    expect(cmp.currentAgreementWithReviews).toBe(0.5);
  });
});

describe("report and stats", () => {
  it("marks criteria missed when reviews find overrides and wrong allows", async () => {
    const rep = await buildReport(store, { since: new Date(Date.now() - 2 * 86_400_000).toISOString() });
    expect(rep.decisions).toBe(21);
    expect(rep.overrideRate).toBe(0.5);
    const byName = Object.fromEntries(rep.criteria.map((c) => [c.name, c.met]));
    expect(byName.override_rate_below_10).toBe(false);
    expect(rep.topOverrides[0]).toMatchObject({
      tier: "write",
      action: "commit",
      advice: "allow",
      final: "deny",
      count: 1,
    });
    expect(rep.weekly.reduce((n, w) => n + w.decisions, 0)).toBe(21);
    expect(rep.monthly.reduce((n, m) => n + m.decisions, 0)).toBe(21);
  });

  it("buckets the series by hour with empty hours filled", async () => {
    const s = await computeStats(store, {
      since: new Date(Date.now() - 86_400_000).toISOString(),
      bucket: "hour",
    });
    expect(s.series.reduce((n, p) => n + p.decisions, 0)).toBe(21);
    expect(s.series.length).toBeGreaterThanOrEqual(20);
    for (let i = 1; i < s.series.length; i++) {
      expect(Date.parse(s.series[i]!.t) - Date.parse(s.series[i - 1]!.t)).toBe(3_600_000);
    }
    expect(Object.keys(s.perVersion)).toEqual([`policy=${current.policy.revision} prompt=none model=none`]);
  });
});
