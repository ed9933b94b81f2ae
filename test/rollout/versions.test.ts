import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { DEFAULT_POLICY_PATH, parsePolicy } from "../../src/policy/load.js";
import {
  CandidateRunner,
  parseRolloutConfig,
  promoteVersion,
  RolloutError,
  rollbackVersion,
  shadowCandidate,
  versionStatus,
} from "../../src/rollout/index.js";
import type { DecisionRecord } from "../../src/schemas/records.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";

const dir = mkdtempSync(join(tmpdir(), "pa-versions-"));
let store: DecisionStore;
const config = parseRolloutConfig({
  versions: {
    current: { name: "v1", prompt: "default" },
    candidate: { name: "v2-strict", prompt: "default" },
  },
  gates: { minSample: 10 },
});

/** The candidate is a stricter policy: on low-trust commits it refuses what v1 allowed, as reviewers did. */
beforeAll(async () => {
  store = await openStore(join(dir, "log.db"));
  const current = createAdvisor();
  const text = readFileSync(DEFAULT_POLICY_PATH, "utf8").replace(/threshold: 0\.5\b/, "threshold: 0.9");
  const candidate = createAdvisor({ policy: parsePolicy(text, "strict.yaml") });
  for (let i = 0; i < 12; i++) {
    const trust = i < 4 ? 0.7 : 0.95;
    const input = {
      action_type: "commit",
      actor_role: "developer",
      actor_id: `user:v${i}`,
      t3_tensor: { competence: trust, reliability: trust, integrity: trust },
      resource: "src/app.ts",
      timestamp: "2026-03-03T15:00:00Z",
    };
    const d = await current.advise(input);
    const rec: DecisionRecord = {
      decisionId: d.decisionId,
      createdAt: new Date().toISOString(),
      input,
      shape: "situation",
      decision: d,
      mode: "advisory",
      tier: "write",
      effectiveDecision: d.decision,
    };
    await store.append(rec);
    await shadowCandidate(store, candidate, rec, "v2-strict");
  }
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("prompt/model versions", () => {
  it("refuses to promote the candidate without reviews, then promotes it once reviews favour it", async () => {
    let st = await versionStatus(store, config);
    expect(st.active?.name).toBe("v1");
    expect(st.comparison?.compared).toBe(12);
    expect(st.comparison?.agreementWithCurrent).toBeCloseTo(8 / 12, 3);
    expect(st.gates.find((g) => g.name === "not_worse_on_reviews")?.passed).toBe(false);
    await expect(promoteVersion(store, config, "dana", "try")).rejects.toThrow(/not_worse_on_reviews/);
    // Reviewers refuse the low-trust commits v1 allowed.
    for (const r of (await store.query({})).slice(-4)) {
      await store.review(r.decisionId, {
        reviewer: "rev",
        finalDecision: "deny",
        category: "too_permissive",
        reviewedAt: new Date().toISOString(),
      });
    }
    st = await versionStatus(store, config);
    expect(st.comparison?.reviewed).toBe(4);
    expect(st.comparison?.currentAgreementWithReviews).toBe(0);
    expect(st.mayPromote).toBe(true);
    st = await promoteVersion(store, config, "dana", "A/B: candidate matches reviewers");
    expect(st.active?.name).toBe("v2-strict");
    expect(st.previous?.name).toBe("v1");
    expect(st.gates.find((g) => g.name === "candidate_differs")?.passed).toBe(false);
  });

  it("rolls back to the previous version in one step, and says when there is none", async () => {
    const st = await rollbackVersion(store, config, "oncall", "latency regression");
    expect(st.active?.name).toBe("v1");
    expect(st.history[0]).toMatchObject({ kind: "rollback", by: "oncall", reason: "latency regression" });
    const err = await rollbackVersion(store, config, "oncall", "again").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolloutError);
    expect((err as Error).message).toMatch(/no previous version/);
  });
});

describe("CandidateRunner", () => {
  it("decides offered records in the background within its bound and drops the rest", async () => {
    const runner = new CandidateRunner(store, createAdvisor(), "v3", { maxInFlight: 2 });
    const recs = (await store.query({ limit: 5 })).map((r) => ({ decisionId: r.decisionId, input: r.input }));
    const taken = recs.map((r) => runner.offer(r));
    expect(taken).toEqual([true, true, false, false, false]);
    await runner.drain();
    expect(runner.counts).toEqual({ offered: 5, decided: 2, dropped: 3, failed: 0 });
    expect((await store.candidates({ candidate: "v3" })).map((c) => c.decisionId).sort()).toEqual(
      recs
        .slice(0, 2)
        .map((r) => r.decisionId)
        .sort(),
    );
    const errors: string[] = [];
    const failing = new CandidateRunner(store, createAdvisor(), "v4", {
      onError: (_e, id) => errors.push(id),
    });
    failing.offer({ decisionId: "bad", input: { nonsense: true } });
    await failing.drain();
    expect(errors).toEqual(["bad"]);
    expect(failing.counts.failed).toBe(1);
  });
});
