import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  parseRolloutConfig,
  Rollout,
  RolloutError,
  RolloutMetrics,
  StartupBlockedError,
} from "../../src/rollout/index.js";
import type { DecisionValue } from "../../src/schemas/common.js";
import { HTTP_STATUS } from "../../src/server/errors.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { makeRecord, type RecordSpec } from "../store/fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "pa-rollout-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let store: DecisionStore;
let registry: Registry;
let metrics: RolloutMetrics;
beforeEach(async () => {
  store = await openStore(join(tmp, `${Math.random().toString(36).slice(2)}.db`));
  registry = new Registry();
  metrics = new RolloutMetrics(registry);
});
afterEach(async () => store.close());

const later = (ms: number) => new Date(Date.now() + ms).toISOString();

/** n decisions of a tier; `agree` of them match their control, the rest disagree. */
async function logShadow(tier: RecordSpec["tier"], n: number, agree: number) {
  for (let i = 0; i < n; i++) {
    const control: DecisionValue = i < agree ? "allow" : "deny";
    await store.append(
      makeRecord({ tier, mode: "shadow", decision: "allow", control, createdAt: later(1000) }),
    );
  }
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe("modes per tier", () => {
  it("takes modes from the rollout file, never puts admin above advisory, and --mode sets all", async () => {
    const config = parseRolloutConfig({ tiers: { read: "enforce", write: "advisory", admin: "enforce" } });
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    expect(r.resolveMode("read")).toBe("enforce");
    expect(r.resolveMode("write")).toBe("advisory");
    expect(r.resolveMode("deploy_prod")).toBe("shadow");
    expect(r.resolveMode("admin")).toBe("advisory");
    expect(await metricValue("policy_advisor_rollout_mode", { tier: "read" })).toBe(2);
    // A reader without the file (the CLI) shows the configuration the service recorded.
    const [cliRead] = await (await Rollout.open({ store, metrics })).status("read");
    expect(cliRead).toMatchObject({ mode: "enforce", configuredMode: "enforce" });
    // On a new log --mode sets every tier; on this one it would skip gates (next test).
    const fresh = await openStore(join(tmp, `${Math.random().toString(36).slice(2)}.db`));
    try {
      const all = await Rollout.open({
        store: fresh,
        config,
        modeOverride: "enforce",
        applyConfig: true,
        metrics,
      });
      expect(all.resolveMode("deploy_prod")).toBe("enforce");
      expect(all.modeFor("admin")).toBe("advisory");
    } finally {
      await fresh.close();
    }
  });

  it("a start-up mode above the log's is refused naming the blocking gates, unless forced with a note", async () => {
    const config = parseRolloutConfig({ gates: { minSample: 10 } });
    await Rollout.open({ store, config, modeOverride: "advisory", applyConfig: true, metrics });
    const before = await store.rolloutEvents();
    const up = await Rollout.open({ store, config, modeOverride: "enforce", metrics });
    const err = await up.applyStartupModes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupBlockedError);
    expect((err as Error).message).toMatch(
      /cannot start write in enforce: the decision log has it in advisory and these gates fail: agreement_sample \(0 decisions with a review or a control \(need 10\)\)/,
    );
    // Refused as a whole: nothing recorded, not even for the tiers whose gates would not matter.
    expect(await store.rolloutEvents()).toEqual(before);
    await expect(up.checkStartupModes({ force: true })).rejects.toThrow(/needs a note saying why/);
    const forced = await up.applyStartupModes({ force: true, note: "drill" });
    expect(forced.map((e) => [e.tier, e.from, e.to])).toEqual([
      ["read", "advisory", "enforce"],
      ["write", "advisory", "enforce"],
      ["deploy_nonprod", "advisory", "enforce"],
      ["deploy_prod", "advisory", "enforce"],
    ]);
    expect(forced[0]?.reason).toMatch(/^--mode enforce: drill \[forced past: agreement_sample, /);
    // Two modes up is refused even with passing shadow gates: the second step has no evidence yet.
    await logShadow("deploy_prod", 20, 20);
    await Rollout.open({ store, config, modeOverride: "shadow", applyConfig: true, metrics });
    const twoUp = await Rollout.open({ store, config, modeOverride: "enforce", metrics });
    await expect(twoUp.checkStartupModes()).rejects.toThrow(
      /cannot start deploy_prod in enforce: .*one_mode_at_a_time \(enforce is more than one mode above shadow; advisory comes first\)/,
    );
  });

  it("a start-up that states no mode keeps the log's, and one below the log's is recorded", async () => {
    const config = parseRolloutConfig({ gates: { minSample: 10 } });
    await Rollout.open({ store, config, modeOverride: "advisory", applyConfig: true, metrics });
    const events = (await store.rolloutEvents()).length;
    const silent = await Rollout.open({ store, config, applyConfig: true, metrics });
    expect(silent.resolveMode("write")).toBe("advisory");
    expect(await store.rolloutEvents()).toHaveLength(events);
    const file = parseRolloutConfig({ tiers: { write: "shadow" } });
    const lower = await Rollout.open({ store, config: file, applyConfig: true, metrics });
    expect(lower.resolveMode("write")).toBe("shadow");
    expect(lower.resolveMode("read")).toBe("advisory");
  });

  it("rejects a bad rollout file naming the field", () => {
    expect(() => parseRolloutConfig({ tiers: { read: "loud" } }, "rollout.yaml")).toThrow(/tiers\.read/);
    expect(() => parseRolloutConfig({ gates: { maxOverrideRate: 2 } })).toThrow(
      /gates\.maxOverrideRate: expected a rate/,
    );
    expect(() => parseRolloutConfig({ rollback: { window: "soon" } })).toThrow(/rollback\.window/);
  });

  it("keeps a promotion across restarts until the configuration itself changes", async () => {
    const config = parseRolloutConfig({ tiers: { write: "shadow" }, gates: { minSample: 10 } });
    const first = await Rollout.open({ store, config, applyConfig: true, metrics });
    await logShadow("write", 20, 19);
    await first.promote("write", "dana", "shadow looked good");
    const restarted = await Rollout.open({ store, config, applyConfig: true, metrics });
    expect(restarted.resolveMode("write")).toBe("advisory");
    // A CLI reading status must not overwrite the service's state with its own defaults.
    const cli = await Rollout.open({ store, metrics });
    expect(cli.resolveMode("write")).toBe("advisory");
    // A changed file takes effect at start-up (raising a mode needs its gates, see below). One stating the
    // mode the tier is in already keeps the evidence gathered since it entered it.
    const [promoted] = await restarted.status("write");
    const same = await Rollout.open({
      store,
      config: parseRolloutConfig({ tiers: { write: "advisory" } }),
      applyConfig: true,
      metrics,
    });
    const [kept] = await same.status("write");
    expect(kept).toMatchObject({ mode: "advisory", configuredMode: "advisory", since: promoted?.since });
    const lower = await Rollout.open({
      store,
      config: parseRolloutConfig({ tiers: { write: "shadow" } }),
      applyConfig: true,
      metrics,
    });
    expect(lower.resolveMode("write")).toBe("shadow");
  });

  it("samples shadow requests at the configured rate", async () => {
    let x = 0;
    const r = await Rollout.open({
      store,
      config: parseRolloutConfig({ shadowSampleRate: 0.25 }),
      metrics,
      random: () => (x++ % 4) / 4,
    });
    const picks = Array.from({ length: 8 }, () => r.sampleShadow());
    expect(picks.filter(Boolean)).toHaveLength(2);
  });
});

describe("gates and promotion", () => {
  it("promotes shadow to advisory only with enough agreement over the minimum sample, recording who and why", async () => {
    const config = parseRolloutConfig({ gates: { minSample: 50 } });
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    await logShadow("write", 40, 39);
    let [st] = await r.status("write");
    expect(st?.mayPromote).toBe(false);
    expect(st?.gates.find((g) => g.name === "agreement_sample")).toMatchObject({
      passed: false,
      detail: "40 decisions with a control (need 50)",
    });
    await logShadow("write", 30, 20); // 59/70 = 84%
    [st] = await r.status("write");
    expect(st?.measures.agreementRate).toBeCloseTo(59 / 70, 3);
    expect(st?.mayPromote).toBe(true);
    expect(st?.nextMode).toBe("advisory");
    const after = await r.promote("write", "dana", "84% over 70");
    expect(after.mode).toBe("advisory");
    expect(after.promotions[0]).toMatchObject({
      by: "dana",
      note: "84% over 70",
      from: "shadow",
      to: "advisory",
    });
    expect(await metricValue("policy_advisor_rollout_promotions_total", { tier: "write" })).toBe(1);
  });

  it("refuses a promotion while a gate fails, naming the gate, unless forced", async () => {
    const r = await Rollout.open({
      store,
      config: parseRolloutConfig({ gates: { minSample: 10 } }),
      applyConfig: true,
      metrics,
    });
    await logShadow("read", 20, 14); // 70%
    const err = await r.promote("read", "eve", "try").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolloutError);
    expect((err as RolloutError).code).toBe("gates_not_passed");
    expect(HTTP_STATUS[(err as RolloutError).code]).toBe(409);
    expect((err as Error).message).toMatch(/agreement_above_80 \(agreement 70\.0% \(need above 80\.0%\)\)/);
    const forced = await r.promote("read", "eve", "urgent", true);
    expect(forced.mode).toBe("advisory");
    expect(forced.promotions[0]?.note).toBe("urgent [forced past: agreement_above_80]");
  });

  it("needs reviews with few overrides (5% for reads) to enforce, and never enforces admin", async () => {
    const config = parseRolloutConfig({
      tiers: { read: "advisory", write: "advisory", admin: "advisory" },
      gates: { minSample: 20, minReviews: 20 },
    });
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    for (const tier of ["read", "write"] as const) {
      for (let i = 0; i < 25; i++) {
        const rec = makeRecord({ tier, mode: "advisory", decision: "allow", createdAt: later(1000) });
        await store.append(rec);
        // 2 of 25 overridden: 8%, under the 10% of writes, over the 5% of reads.
        const finalDecision = i < 2 ? "require_attestation" : "allow";
        await store.review(rec.decisionId, {
          reviewer: "rev",
          finalDecision,
          category: i < 2 ? "too_permissive" : "agree",
          reviewedAt: later(2000),
        });
      }
    }
    const [read] = await r.status("read");
    const [write] = await r.status("write");
    expect(write?.measures.overrideRate).toBeCloseTo(0.08, 5);
    expect(write?.mayPromote).toBe(true);
    expect(read?.mayPromote).toBe(false);
    expect(read?.gates.find((g) => g.name === "overrides_below_5")?.passed).toBe(false);
    const [admin] = await r.status("admin");
    expect(admin?.nextMode).toBeNull();
    await expect(r.promote("admin", "root", "please")).rejects.toThrow(/never enforced without a human/);
  });
});

describe("automatic rollback", () => {
  const config = parseRolloutConfig({
    tiers: { write: "enforce", deploy_nonprod: "advisory", read: "enforce", deploy_prod: "advisory" },
    rollback: { minSample: 20, latencyBudgetMs: 100 },
  });

  it("rolls a tier back to shadow when the error rate exceeds 1%, logged and counted", async () => {
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    for (let i = 0; i < 40; i++) {
      await store.append(
        makeRecord({
          tier: "write",
          mode: "enforce",
          source: i < 2 ? "fallback" : "engine",
          createdAt: later(1000),
        }),
      );
    }
    for (let i = 0; i < 40; i++)
      await store.append(makeRecord({ tier: "read", mode: "enforce", createdAt: later(1000) }));
    const done = await r.check();
    expect(done.map((d) => [d.trigger, d.from, d.to])).toEqual([["error_rate", "enforce", "shadow"]]);
    expect(r.resolveMode("write")).toBe("shadow");
    expect(r.resolveMode("read")).toBe("enforce");
    const [st] = await r.status("write");
    expect(st?.rollbacks[0]).toMatchObject({
      by: "monitor",
      trigger: "error_rate",
      from: "enforce",
      to: "shadow",
    });
    expect(st?.rollbacks[0]?.reason).toMatch(/error rate 5\.0% over 40 decisions exceeds 1\.0%/);
    expect(
      await metricValue("policy_advisor_rollout_rollbacks_total", { tier: "write", trigger: "error_rate" }),
    ).toBe(1);
    expect(await metricValue("policy_advisor_rollout_mode", { tier: "write" })).toBe(0);
    // A second check finds nothing more to do.
    expect(await r.check()).toEqual([]);
  });

  it("rolls back when p95 latency exceeds its budget", async () => {
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    for (let i = 0; i < 40; i++) {
      await store.append(
        makeRecord({
          tier: "deploy_nonprod",
          mode: "advisory",
          latencyMs: i < 4 ? 500 : 5,
          createdAt: later(1000),
        }),
      );
    }
    const done = await r.check();
    expect(done.map((d) => d.trigger)).toEqual(["latency_p95"]);
    expect(done[0]?.reason).toMatch(/p95 latency 500 ms exceeds the 100 ms budget/);
  });

  it("rolls back when the decision distribution shifts more than 20% from the baseline window", async () => {
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    const [st] = await r.status("deploy_prod");
    const since = Date.parse(st!.since!);
    // Baseline before the mode began: 80% allow. Since: 50% allow.
    for (let i = 0; i < 40; i++) {
      await store.append(
        makeRecord({
          tier: "deploy_prod",
          mode: "shadow",
          decision: i < 32 ? "allow" : "deny",
          createdAt: new Date(since - 60_000).toISOString(),
        }),
      );
      await store.append(
        makeRecord({
          tier: "deploy_prod",
          mode: "advisory",
          decision: i < 20 ? "allow" : "deny",
          createdAt: later(1000),
        }),
      );
    }
    const done = await r.check();
    expect(done.map((d) => d.trigger)).toEqual(["distribution_shift"]);
    expect(done[0]?.reason).toMatch(/shifted 30\.0%/);
  });

  it("rolls back at once when a review finds a wrong allow on a high-risk action", async () => {
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    const rec = makeRecord({
      tier: "deploy_prod",
      mode: "advisory",
      decision: "allow",
      riskLevel: "critical",
    });
    await store.append(rec);
    const reviewed = await store.review(rec.decisionId, {
      reviewer: "sam",
      finalDecision: "deny",
      category: "too_permissive",
      reviewedAt: new Date().toISOString(),
    });
    const fired = await r.onReview(reviewed!);
    expect(fired).toMatchObject({ trigger: "wrong_allow_high_risk", from: "advisory", to: "shadow" });
    expect(r.resolveMode("deploy_prod")).toBe("shadow");
    // A low-risk override is not a wrong allow on high risk.
    const low = makeRecord({ tier: "read", mode: "enforce", decision: "allow", riskLevel: "low" });
    await store.append(low);
    const rl = await store.review(low.decisionId, {
      reviewer: "sam",
      finalDecision: "deny",
      category: "too_permissive",
      reviewedAt: new Date().toISOString(),
    });
    expect(await r.onReview(rl!)).toBeUndefined();
    expect(r.resolveMode("read")).toBe("enforce");
  });

  it("manual rollback is one command and refuses to go up", async () => {
    const r = await Rollout.open({ store, config, applyConfig: true, metrics });
    const st = await r.rollback("read", "pager went off", { by: "oncall", to: "advisory" });
    expect(st.mode).toBe("advisory");
    expect(st.rollbacks[0]).toMatchObject({ reason: "pager went off", by: "oncall", trigger: "manual" });
    await expect(r.rollback("read", "again", { to: "enforce" })).rejects.toThrow(
      /cannot roll read back to enforce: it is in advisory/,
    );
    await expect(r.rollback("nope", "x")).rejects.toThrow(/unknown tier "nope"/);
  });
});
