import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendOnce, MASKED, openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { externalAvailable } from "../helpers/external.js";
import { startWriter } from "./child.js";
import { dropSchema, makeRecord, PG_URL, postgresUp, uniqueSchema } from "./fixtures.js";

/**
 * One suite, run against both stores: whatever a sidecar can see through the DecisionStore
 * interface must be the same for SQLite and PostgreSQL.
 */
interface Backend {
  name: string;
  available: boolean;
  /** A fresh, empty log URL. */
  fresh(): Promise<string>;
  cleanup(): Promise<void>;
}

const tmp = mkdtempSync(join(tmpdir(), "pa-store-"));
const schemas: string[] = [];
const pgUp = await postgresUp();

const backends: Backend[] = [
  {
    name: "sqlite",
    available: true,
    fresh: async () => join(tmp, `log-${Math.random().toString(36).slice(2)}.db`),
    cleanup: async () => rmSync(tmp, { recursive: true, force: true }),
  },
  {
    name: "postgres",
    available: externalAvailable("PostgreSQL", pgUp, `no server at ${PG_URL}`),
    fresh: async () => {
      const s = uniqueSchema();
      schemas.push(s);
      return `${PG_URL}?schema=${s}`;
    },
    cleanup: async () => {
      for (const s of schemas) await dropSchema(s);
    },
  },
];

for (const b of backends) {
  describe.skipIf(!b.available)(`decision log: ${b.name}`, () => {
    let store: DecisionStore;
    let url: string;
    beforeAll(async () => {
      url = await b.fresh();
      store = await openStore(url, {
        mask: ["details", "t3_tensor", "action.parameters.password", "*.token"],
      });
    });
    afterAll(async () => {
      await store?.close();
    });

    it("stores a decision and returns it whole, with masked fields replaced before storage", async () => {
      const rec = makeRecord({
        input: {
          action_type: "deploy",
          actor_role: "deployer",
          actor_id: "user:bob",
          t3_tensor: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
          details: "password is hunter2",
          session: { token: "abc", keep: "yes" },
          action: { parameters: { password: "s3cret", branch: "main" } },
        },
        tier: "deploy_prod",
        control: "deny",
        mode: "shadow",
      });
      await store.append(rec);
      const got = await store.get(rec.decisionId);
      expect(got?.decision).toEqual(rec.decision);
      expect(got?.control).toBe("deny");
      expect(got?.tier).toBe("deploy_prod");
      expect(got?.input).toEqual({
        action_type: "deploy",
        actor_role: "deployer",
        actor_id: "user:bob",
        t3_tensor: MASKED,
        details: MASKED,
        session: { token: MASKED, keep: "yes" },
        action: { parameters: { password: MASKED, branch: "main" } },
      });
      // The caller's object is not modified by masking.
      expect((rec.input as { details: string }).details).toBe("password is hunter2");
      expect(await store.get("no-such-id")).toBeUndefined();
    });

    it("group-commits concurrent appends: every append resolves, fewer transactions than records", async () => {
      const before = { ...store.commitStats };
      const recs = Array.from({ length: 300 }, (_, i) => makeRecord({ id: `gc-${i}`, actor: "user:gc" }));
      await Promise.all(recs.map((r) => store.append(r)));
      expect(await store.count({ actor: "user:gc" })).toBe(300);
      const batches = store.commitStats.batches - before.batches;
      expect(store.commitStats.items - before.items).toBe(300);
      expect(batches).toBeLessThan(30);
      expect(store.commitStats.largestBatch).toBeGreaterThan(10);
    });

    it("a bad record fails only its own append, not the rest of its batch", async () => {
      const results = await Promise.allSettled([
        store.append(makeRecord({ id: "bad-1", actor: "user:bad" })),
        store.append(makeRecord({ id: "bad-2", actor: "user:bad", createdAt: "not a time" })),
        store.append(makeRecord({ id: "bad-3", actor: "user:bad" })),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/createdAt.*"not a time"/);
      expect(await store.count({ actor: "user:bad" })).toBe(2);
    });

    it("append is idempotent by decision id: a second append resolves, writes nothing, keeps the first", async () => {
      const first = makeRecord({ id: "dup-1", actor: "user:dup", decision: "allow" });
      const again = makeRecord({ id: "dup-1", actor: "user:dup", decision: "deny" });
      // In one batch (appended in the same tick) and in a later one.
      const results = await Promise.allSettled([
        store.append(first),
        store.append(again),
        store.append(makeRecord({ id: "dup-2", actor: "user:dup" })),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      const size = (await store.size()).bytes;
      await store.append(again);
      expect(await store.count({ actor: "user:dup" })).toBe(2);
      expect((await store.get("dup-1"))?.decision.decision).toBe("allow");
      // Nothing written, nothing counted (PostgreSQL counts the log's bytes as rows are written).
      expect((await store.size()).bytes).toBe(size);
    });

    it("a retried append of a stored decision resolves even when the log is full", async () => {
      const full = await openStore(await b.fresh(), { maxBytes: 1 });
      try {
        // Nothing fits: every new decision is refused...
        await expect(full.append(makeRecord({ id: "full-1" }))).rejects.toThrow(/full/);
      } finally {
        await full.close();
      }
      const u = await b.fresh();
      const roomy = await openStore(u);
      const rec = makeRecord({ id: "full-2" });
      await roomy.append(rec);
      await roomy.close();
      const reopened = await openStore(u, { maxBytes: 1 });
      try {
        // ...but one already stored is a no-op, so it resolves.
        await reopened.append(rec);
        await expect(reopened.append(makeRecord({ id: "full-3" }))).rejects.toThrow(/full/);
        expect(await reopened.count({})).toBe(1);
      } finally {
        await reopened.close();
      }
    });

    it("appendOnce is idempotent by decision id: a record appended twice, or by two at once, is logged once", async () => {
      const first = makeRecord({ id: "once-1", actor: "user:once", decision: "deny" });
      // Two workers racing for one retried job, and a third attempt after both.
      const raced = await Promise.all([
        appendOnce(store, first),
        appendOnce(store, { ...first, decision: { ...first.decision, decision: "allow" } }),
      ]);
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await appendOnce(store, first)).toBe(false);
      expect(await store.count({ actor: "user:once" })).toBe(1);
      // The record kept is the one that won, whole, not a mix of the two.
      const kept = await store.get("once-1");
      const winner = raced[0] ? "deny" : "allow";
      expect(kept?.decision.decision).toBe(winner);
      expect(await appendOnce(store, makeRecord({ id: "once-2", actor: "user:once" }))).toBe(true);
      expect(await store.count({ actor: "user:once" })).toBe(2);
    });

    it("filters, searches, orders newest first and pages", async () => {
      const t0 = Date.parse("2026-01-01T00:00:00Z");
      const at = (m: number) => new Date(t0 + m * 60_000).toISOString();
      const specs = [
        makeRecord({
          id: "f1",
          createdAt: at(1),
          tier: "write",
          mode: "shadow",
          decision: "allow",
          control: "allow",
          actor: "user:f",
          action: "commit",
        }),
        makeRecord({
          id: "f2",
          createdAt: at(2),
          tier: "write",
          mode: "shadow",
          decision: "deny",
          control: "allow",
          actor: "user:f",
          action: "commit",
        }),
        makeRecord({
          id: "f3",
          createdAt: at(3),
          tier: "admin",
          mode: "advisory",
          decision: "require_attestation",
          actor: "user:f",
          action: "grant_role",
        }),
        makeRecord({
          id: "f4",
          createdAt: at(4),
          tier: "read",
          mode: "enforce",
          decision: "allow",
          actor: "user:g",
          action: "read",
        }),
      ];
      for (const r of specs) await store.append(r);
      const range = { since: at(0), until: at(10) };
      expect((await store.query(range)).map((r) => r.decisionId)).toEqual(["f4", "f3", "f2", "f1"]);
      expect(
        (await store.query({ ...range, order: "asc", limit: 2, offset: 1 })).map((r) => r.decisionId),
      ).toEqual(["f2", "f3"]);
      expect((await store.query({ ...range, tier: "write" })).map((r) => r.decisionId)).toEqual(["f2", "f1"]);
      expect((await store.query({ ...range, mismatchesOnly: true })).map((r) => r.decisionId)).toEqual([
        "f2",
      ]);
      expect((await store.query({ ...range, mode: "advisory" })).map((r) => r.decisionId)).toEqual(["f3"]);
      expect(
        (await store.query({ ...range, decision: "allow", actor: "user:f" })).map((r) => r.decisionId),
      ).toEqual(["f1"]);
      expect((await store.query({ ...range, action: "grant_role" })).map((r) => r.decisionId)).toEqual([
        "f3",
      ]);
      expect((await store.query({ since: at(2), until: at(4) })).map((r) => r.decisionId)).toEqual([
        "f3",
        "f2",
      ]);
      expect(await store.count({ ...range, actor: "user:f" })).toBe(3);
      // facts(): the same selection, read from columns only.
      const facts = await store.facts({ ...range, tier: "write" });
      const full = await store.query({ ...range, tier: "write" });
      expect(facts).toEqual(
        full.map((r) => ({
          decisionId: r.decisionId,
          createdAt: r.createdAt,
          tier: r.tier,
          mode: r.mode,
          control: r.control,
          decision: {
            decision: r.decision.decision,
            riskLevel: r.decision.riskLevel,
            source: r.decision.source,
            latencyMs: r.decision.latencyMs,
            versions: r.decision.versions,
          },
        })),
      );
      // Free text over input and decision, case-insensitive, with LIKE wildcards taken literally.
      expect((await store.query({ ...range, q: "GRANT_ROLE" })).map((r) => r.decisionId)).toEqual(["f3"]);
      expect(await store.count({ ...range, q: "100%_sure" })).toBe(0);
    });

    it("records a review and filters on it", async () => {
      await store.append(
        makeRecord({ id: "rv1", actor: "user:rv", mode: "advisory", decision: "allow", riskLevel: "high" }),
      );
      await store.append(makeRecord({ id: "rv2", actor: "user:rv", mode: "advisory" }));
      const reviewedAt = new Date().toISOString();
      const updated = await store.review("rv1", {
        reviewer: "carol",
        finalDecision: "deny",
        category: "too_permissive",
        notes: "prod secrets",
        reviewedAt,
      });
      expect(updated?.review).toEqual({
        reviewer: "carol",
        finalDecision: "deny",
        category: "too_permissive",
        notes: "prod secrets",
        reviewedAt,
      });
      expect((await store.query({ actor: "user:rv", reviewed: false })).map((r) => r.decisionId)).toEqual([
        "rv2",
      ]);
      expect((await store.query({ actor: "user:rv", reviewed: true })).map((r) => r.decisionId)).toEqual([
        "rv1",
      ]);
      expect(
        await store.review("nope", { reviewer: "x", finalDecision: "deny", category: "agree", reviewedAt }),
      ).toBeUndefined();
    });

    it("checks and normalises every time it writes or compares the same way", async () => {
      await store.append(makeRecord({ id: "tm1", actor: "user:tm", createdAt: "2026-02-01T02:00:00+02:00" }));
      // Stored as UTC, so text order is time order and a UTC bound finds it.
      expect((await store.get("tm1"))?.createdAt).toBe("2026-02-01T00:00:00.000Z");
      expect(
        (await store.query({ since: "2026-02-01T00:00:00Z", until: "2026-02-01T00:00:00.001Z" })).map(
          (r) => r.decisionId,
        ),
      ).toEqual(["tm1"]);
      const review = { reviewer: "x", finalDecision: "deny" as const, category: "agree" as const };
      await expect(store.review("tm1", { ...review, reviewedAt: "yesterday" })).rejects.toThrow(
        /reviewedAt.*"yesterday"/,
      );
      expect((await store.get("tm1"))?.review).toBeUndefined();
      const cand = { decisionId: "tm1", candidate: "times", decision: makeRecord().decision };
      await expect(store.appendCandidate({ ...cand, createdAt: "soon" })).rejects.toThrow(
        /createdAt.*"soon"/,
      );
      await store.appendCandidate({ ...cand, createdAt: "2026-02-01T02:00:00+02:00" });
      expect(await store.candidates({ candidate: "times", since: "2026-02-01T00:00:00Z" })).toMatchObject([
        { decisionId: "tm1", createdAt: "2026-02-01T00:00:00.000Z" },
      ]);
      await expect(store.query({ since: "last week" })).rejects.toThrow(/since.*"last week"/);
      await expect(store.candidates({ until: "later" })).rejects.toThrow(/until.*"later"/);
      await expect(store.prune("never")).rejects.toThrow(/before.*"never"/);
    });

    it("keeps rollout events, version events and candidate decisions", async () => {
      const e = await store.appendRolloutEvent({
        at: new Date().toISOString(),
        tier: "write",
        kind: "promote",
        from: "shadow",
        to: "advisory",
        by: "dana",
        reason: "gates passed",
      });
      await store.appendRolloutEvent({
        at: new Date().toISOString(),
        tier: "write",
        kind: "rollback",
        from: "advisory",
        to: "shadow",
        by: "monitor",
        reason: "error rate 3%",
        trigger: "error_rate",
      });
      expect(e.id).toBeGreaterThan(0);
      const events = await store.rolloutEvents("write");
      expect(events.map((x) => [x.kind, x.to, x.trigger ?? null])).toEqual([
        ["promote", "advisory", null],
        ["rollback", "shadow", "error_rate"],
      ]);
      expect(await store.rolloutEvents("admin")).toEqual([]);
      // Compare-and-set: only one of two writers that read the same latest event gets through.
      const latest = events.at(-1)!.id!;
      const ev = {
        at: new Date().toISOString(),
        tier: "write" as const,
        kind: "promote" as const,
        from: "shadow" as const,
        to: "advisory" as const,
        by: "x",
        reason: "cas",
      };
      const [first, second] = await Promise.all([
        store.appendRolloutEventIf(ev, latest),
        store.appendRolloutEventIf(ev, latest),
      ]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect(await store.appendRolloutEventIf({ ...ev, tier: "admin" }, null)).toMatchObject({
        tier: "admin",
      });
      expect(await store.appendRolloutEventIf({ ...ev, tier: "admin" }, null)).toBeUndefined();
      const rec = makeRecord({ id: "cand-1" });
      await store.appendCandidate({
        decisionId: "cand-1",
        candidate: "prompt=b",
        createdAt: rec.createdAt,
        decision: { ...rec.decision, decision: "deny" },
      });
      const v = await store.appendVersionEvent({
        at: new Date().toISOString(),
        kind: "promote",
        from: { name: "a", prompt: "default" },
        to: { name: "b", prompt: "compact", model: null },
        by: "dana",
        reason: "A/B passed",
      });
      expect(v.id).toBeGreaterThan(0);
      expect((await store.versionEvents()).map((x) => [x.kind, x.from?.name, x.to])).toEqual([
        ["promote", "a", { name: "b", prompt: "compact", model: null }],
      ]);
      const c = await store.candidates({ candidate: "prompt=b" });
      expect(c.map((x) => [x.decisionId, x.decision.decision])).toEqual([["cand-1", "deny"]]);
    });

    it("answers the readiness probe, and keeps everything across close and reopen", async () => {
      await store.ping();
      const n = await store.count({});
      await store.close();
      await expect(store.append(makeRecord())).rejects.toThrow(/closed/);
      store = await openStore(url);
      expect(await store.count({})).toBe(n);
      expect((await store.get("rv1"))?.review?.finalDecision).toBe("deny");
    });

    it("loses no acknowledged decision when the writer is killed with SIGKILL", async () => {
      const w = startWriter(url, `crash${b.name}`, 0, 16);
      await w.waitFor(150);
      w.kill();
      await w.exit;
      const acked = [...w.acked];
      expect(acked.length).toBeGreaterThanOrEqual(150);
      const stored = new Set(
        (await store.query({ actor: `writer:crash${b.name}` })).map((r) => r.decisionId),
      );
      const lost = acked.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
    }, 60_000);
  });
}

describe.skipIf(!pgUp)("decision log: several processes writing one PostgreSQL database", () => {
  it("keeps every record written by three sidecar processes at once", async () => {
    const s = uniqueSchema();
    schemas.push(s);
    const url = `${PG_URL}?schema=${s}`;
    const writers = ["p1", "p2", "p3"].map((p) => startWriter(url, p, 120, 8));
    const codes = await Promise.all(writers.map((w) => w.exit));
    expect(codes).toEqual([0, 0, 0]);
    const store = await openStore(url);
    try {
      for (const p of ["p1", "p2", "p3"]) expect(await store.count({ actor: `writer:${p}` })).toBe(120);
      expect(await store.count({})).toBe(360);
    } finally {
      await store.close();
    }
  }, 60_000);
});

afterAll(async () => {
  for (const b of backends) if (b.available) await b.cleanup();
});
