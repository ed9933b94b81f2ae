import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { parseRolloutConfig, Rollout, RolloutMetrics } from "../../src/rollout/index.js";
import type { DecisionRecord } from "../../src/schemas/records.js";
import { buildApp } from "../../src/server/app.js";
import { TokenSet } from "../../src/server/auth.js";
import { reviewRoutesFor } from "../../src/server/routes/review.js";
import { rolloutRoutesFor } from "../../src/server/routes/rollout.js";
import { statsRoutesFor } from "../../src/server/routes/stats.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { makeRecord } from "../store/fixtures.js";

const REVIEWER = "reviewer-token-0123456789";
const CALLER = "caller-token-0123456789ab";

/**
 * The real sidecar (buildApp) with a real SQLite log, the rollout controller as its mode resolver,
 * and the review, stats and rollout plugins mounted as the server mounts them.
 */
let dir: string;
let store: DecisionStore;
let rollout: Rollout;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pa-routes-"));
  store = await openStore(join(dir, "log.db"), { mask: ["details"] });
  rollout = await Rollout.open({
    store,
    config: parseRolloutConfig({
      tiers: { read: "advisory", write: "shadow", deploy_prod: "advisory" },
      gates: { minSample: 5 },
    }),
    applyConfig: true,
    metrics: new RolloutMetrics(new Registry()),
  });
  const tokens = new TokenSet();
  tokens.add("reviewer", REVIEWER, "rita");
  tokens.add("caller", CALLER, "svc");
  const { app } = await buildApp({
    advisor: createAdvisor(),
    store,
    modes: rollout,
    tokens,
    plugins: [
      reviewRoutesFor({ store, rollout }),
      statsRoutesFor({ store }),
      rolloutRoutesFor({ rollout, store }),
    ],
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  close = async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  };
});
afterAll(async () => close?.());

const auth = (token = REVIEWER) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const get = async (path: string, token = REVIEWER) => fetch(`${url}${path}`, { headers: auth(token) });
const post = async (path: string, body: unknown, token = REVIEWER) =>
  fetch(`${url}${path}`, { method: "POST", headers: auth(token), body: JSON.stringify(body) });

const situation = (actor: string, details = "weekly report") => ({
  action_type: "read",
  actor_role: "member",
  actor_id: actor,
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
  timestamp: "2026-03-03T15:00:00Z",
  details,
});

describe("review routes", () => {
  it("lists advised decisions, finds one by id and by free text, with masked input", async () => {
    for (const a of ["user:ann", "user:ben", "user:cid"]) {
      const res = await post("/v1/advisory", situation(a, `secret plan of ${a}`), CALLER);
      expect(res.status).toBe(200);
    }
    const res = await get("/v1/decisions?tier=read&limit=2");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: DecisionRecord[]; total: number };
    expect(body.total).toBe(3);
    expect(body.items).toHaveLength(2);
    expect(body.items[0]?.mode).toBe("advisory");
    expect((body.items[0]!.input as { details: string }).details).toBe("[masked]");
    const byText = (await (await get("/v1/decisions?q=user:ben")).json()) as { items: DecisionRecord[] };
    expect(byText.items.map((i) => (i.input as { actor_id: string }).actor_id)).toEqual(["user:ben"]);
    const one = await get(`/v1/decisions/${body.items[0]?.decisionId}`);
    expect(((await one.json()) as DecisionRecord).decisionId).toBe(body.items[0]?.decisionId);
  });

  it("answers errors in the contract's shape: 404 unknown id, 400 naming bad parameters", async () => {
    const missing = await get("/v1/decisions/nope");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "not_found",
    });
    const bad = await get("/v1/decisions?since=yesterday&limit=0");
    expect(bad.status).toBe(400);
    const err = (await bad.json()) as { error: { issues: { path: string }[] } };
    expect(err.error.issues.map((i) => i.path)).toContain("limit");
    const badSince = await get("/v1/decisions?since=yesterday");
    expect(badSince.status).toBe(400);
    expect(((await badSince.json()) as { error: { issues: { path: string }[] } }).error.issues[0]?.path).toBe(
      "since",
    );
    const badReview = await post("/v1/decisions/x/review", { finalDecision: "maybe", category: "agree" });
    expect(badReview.status).toBe(400);
  });

  it("needs the reviewer token", async () => {
    expect((await fetch(`${url}/v1/reviews/queue`)).status).toBe(401);
    expect((await get("/v1/reviews/queue", CALLER)).status).toBe(403);
  });

  it("queues unreviewed advisory decisions and takes a review under the token's name", async () => {
    const queue = (await (await get("/v1/reviews/queue?tier=read")).json()) as {
      items: DecisionRecord[];
      total: number;
    };
    expect(queue.total).toBe(3);
    const id = queue.items[0]!.decisionId;
    const res = await post(`/v1/decisions/${id}/review`, {
      finalDecision: "deny",
      category: "too_permissive",
      notes: "no",
    });
    expect(res.status).toBe(200);
    const rec = (await res.json()) as DecisionRecord;
    expect(rec.review).toMatchObject({
      reviewer: "rita",
      finalDecision: "deny",
      category: "too_permissive",
      notes: "no",
    });
    const after = (await (await get("/v1/reviews/queue?tier=read")).json()) as { total: number };
    expect(after.total).toBe(2);
    expect(
      (await post("/v1/decisions/nope/review", { finalDecision: "deny", category: "agree" })).status,
    ).toBe(404);
    const contradiction = await post(`/v1/decisions/${queue.items[1]!.decisionId}/review`, {
      finalDecision: "deny",
      category: "agree",
    });
    expect(contradiction.status).toBe(400);
    const err = (await contradiction.json()) as { error: { issues: { path: string; message: string }[] } };
    expect(err.error.issues[0]).toMatchObject({
      path: "category",
      message: expect.stringMatching(/differs from the advice allow/),
    });
  });

  it("a review finding a wrong allow on a high-risk action rolls the tier back at once", async () => {
    const rec = makeRecord({ tier: "deploy_prod", mode: "advisory", decision: "allow", riskLevel: "high" });
    await store.append(rec);
    const res = await post(`/v1/decisions/${rec.decisionId}/review`, {
      finalDecision: "deny",
      category: "too_permissive",
    });
    expect(res.status).toBe(200);
    expect(rollout.resolveMode("deploy_prod")).toBe("shadow");
    // The answer says what the review caused, so the reviewer's screen can.
    const body = (await res.json()) as DecisionRecord & { rollback?: Record<string, unknown> };
    expect(body.review?.finalDecision).toBe("deny");
    expect(body.rollback).toMatchObject({
      tier: "deploy_prod",
      from: "advisory",
      to: "shadow",
      reason: expect.stringMatching(/wrong allow|high/),
    });
  });
});

describe("stats and rollout routes", () => {
  it("returns measures overall, per tier and as a series", async () => {
    const res = await get("/v1/stats?since=1d&bucket=hour");
    expect(res.status).toBe(200);
    const s = (await res.json()) as {
      overall: {
        decisions: number;
        overrideRate: number | null;
        distribution: Record<string, number>;
        latencyMs: { p95: number };
      };
      perTier: Record<string, { decisions: number }>;
      series: { t: string; decisions: number }[];
    };
    expect(s.overall.decisions).toBe(4);
    expect(s.overall.overrideRate).toBe(1);
    expect(s.perTier.read?.decisions).toBe(3);
    expect(s.series.reduce((n, p) => n + p.decisions, 0)).toBe(4);
    expect(s.overall.latencyMs.p95).toBeGreaterThan(0);
    expect((await get("/v1/stats?bucket=week")).status).toBe(400);
  });

  it("shows every tier's status and promotes only through the gates, recording who", async () => {
    const res = await get("/v1/rollout");
    const body = (await res.json()) as {
      tiers: {
        tier: string;
        mode: string;
        measuresSince: string;
        mayPromote: boolean;
        nextMode: string | null;
        rollbacks: unknown[];
      }[];
    };
    expect(body.tiers.map((t) => [t.tier, t.mode])).toEqual([
      ["read", "advisory"],
      ["write", "shadow"],
      ["deploy_nonprod", "shadow"],
      ["deploy_prod", "shadow"],
      ["admin", "shadow"],
    ]);
    // Each tier's sample says where it begins: within the gates' window (30 days by default), not all time.
    for (const t of body.tiers) {
      const since = Date.parse(t.measuresSince);
      expect(since).toBeGreaterThan(Date.now() - 31 * 86_400_000);
      expect(since).toBeLessThanOrEqual(Date.now());
    }
    expect(body.tiers.find((t) => t.tier === "deploy_prod")?.rollbacks).toHaveLength(1);
    const refused = await post("/v1/rollout/write/promote", { note: "looks fine" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("gates_not_passed");
    const noNote = await post("/v1/rollout/write/promote", {});
    expect(noNote.status).toBe(400);
    const unknown = await post("/v1/rollout/nope/promote", { note: "x" });
    expect(unknown.status).toBe(404);
    // Shadow evidence for writes: 6 agreeing controls.
    for (let i = 0; i < 6; i++)
      await store.append(
        makeRecord({
          tier: "write",
          mode: "shadow",
          decision: "allow",
          control: "allow",
          createdAt: new Date(Date.now() + 1000).toISOString(),
        }),
      );
    const ok = await post("/v1/rollout/write/promote", { note: "6/6 agree" });
    expect(ok.status).toBe(200);
    const st = (await ok.json()) as { mode: string; promotions: { by: string; note: string }[] };
    expect(st.mode).toBe("advisory");
    expect(st.promotions[0]).toMatchObject({ by: "rita", note: "6/6 agree" });
    const back = await post("/v1/rollout/write/rollback", { reason: "drill" });
    expect(((await back.json()) as { mode: string }).mode).toBe("shadow");
  });

  it("shows the prompt/model version and refuses a rollback with nothing to return to", async () => {
    const res = await get("/v1/rollout/versions");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      active: null,
      previous: null,
      candidate: null,
      mayPromote: false,
      history: [],
    });
    const promote = await post("/v1/rollout/versions/promote", { note: "x" });
    expect(promote.status).toBe(409);
    expect(((await promote.json()) as { error: { message: string } }).error.message).toMatch(
      /no candidate version/,
    );
    const back = await post("/v1/rollout/versions/rollback", { reason: "x" });
    expect(back.status).toBe(409);
    expect((await post("/v1/rollout/versions/rollback", {})).status).toBe(400);
  });

  it("documents the routes in /openapi.json", async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of [
      "/v1/decisions",
      "/v1/decisions/{id}",
      "/v1/reviews/queue",
      "/v1/decisions/{id}/review",
      "/v1/stats",
      "/v1/rollout",
      "/v1/rollout/{tier}/promote",
      "/v1/rollout/{tier}/rollback",
      "/v1/rollout/versions",
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});

describe("what lists and reviews answer beyond the contract", () => {
  it("a review that changes no mode carries no rollback", async () => {
    const plain = makeRecord({ tier: "read", mode: "advisory", decision: "allow", riskLevel: "low" });
    await store.append(plain);
    const quiet = await post(`/v1/decisions/${plain.decisionId}/review`, {
      finalDecision: "allow",
      category: "agree",
    });
    expect(((await quiet.json()) as { rollback?: unknown }).rollback).toBeUndefined();
  });

  it("pages the queue and orders lists by time either way", async () => {
    const all = (await (await get("/v1/reviews/queue?tier=read&limit=100")).json()) as {
      items: DecisionRecord[];
      total: number;
    };
    expect(all.total).toBeGreaterThanOrEqual(2);
    const second = (await (await get("/v1/reviews/queue?tier=read&limit=1&offset=1")).json()) as {
      items: DecisionRecord[];
      total: number;
    };
    expect(second.total).toBe(all.total);
    expect(second.items.map((r) => r.decisionId)).toEqual([all.items[1]!.decisionId]);
    const oldest = (await (await get("/v1/reviews/queue?tier=read&limit=1&order=asc")).json()) as {
      items: DecisionRecord[];
    };
    expect(oldest.items[0]!.decisionId).toBe(all.items.at(-1)!.decisionId);
    const log = (await (await get("/v1/decisions?order=asc&limit=1000")).json()) as {
      items: DecisionRecord[];
    };
    const times = log.items.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort());
    expect((await get("/v1/decisions?order=sideways")).status).toBe(400);
    // A query number that is not one is named in words, not as the validator's NaN.
    const bad = (await (await get("/v1/reviews/queue?offset=abc")).json()) as {
      error: { issues: { path: string; message: string }[] };
    };
    expect(bad.error.issues).toEqual([
      { path: "offset", message: "expected a number, got text that is not a number" },
    ]);
  });
});
