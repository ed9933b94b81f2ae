import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { DEFAULT_POLICY_PATH, loadPolicy } from "../../src/policy/load.js";
import { TokenSet } from "../../src/server/auth.js";
import { loose, post, readSituation, startTestServer, type TestServer } from "./helpers.js";

const CALLER = "caller-token-0123456789abcdef";
const REVIEWER = "reviewer-token-0123456789abcdef";

describe("auth on", () => {
  let s: TestServer;
  beforeAll(async () => {
    const tokens = new TokenSet();
    tokens.add("caller", CALLER, "hardbound");
    tokens.add("reviewer", REVIEWER, "alice");
    s = await startTestServer({
      tokens,
      reload: async () => createAdvisor(),
      plugins: [
        // A reviewer-only route as the store's review plugin mounts it, to check the role split.
        async (app) => {
          app.get("/v1/decisions", { config: { role: "reviewer" } }, async (request) => ({
            items: [],
            total: 0,
            by: request.principal?.name,
          }));
        },
      ],
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it("401 without a token, with a wrong one, and with a malformed header", async () => {
    const none = await post(`${s.url}/v1/advisory`, readSituation);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await none.json().then(loose)).error.code).toBe("unauthorized");
    const wrong = await post(`${s.url}/v1/advisory`, readSituation, { authorization: `Bearer ${CALLER}x` });
    expect(wrong.status).toBe(401);
    const basic = await post(`${s.url}/v1/advisory`, readSituation, { authorization: `Basic ${CALLER}` });
    expect(basic.status).toBe(401);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/v1/runtime`)).status).toBe(401);
  });

  it("a caller token decides; health, ready and openapi stay open", async () => {
    const res = await post(`${s.url}/v1/advisory`, readSituation, { authorization: `Bearer ${CALLER}` });
    expect(res.status).toBe(200);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
    expect((await fetch(`${s.url}/openapi.json`)).status).toBe(200);
  });

  it("a caller token cannot use reviewer routes (403); a reviewer token can, under its name", async () => {
    const asCaller = await fetch(`${s.url}/v1/decisions`, { headers: { authorization: `Bearer ${CALLER}` } });
    expect(asCaller.status).toBe(403);
    expect((await asCaller.json().then(loose)).error.code).toBe("forbidden");
    const reload = await post(`${s.url}/v1/admin/reload`, {}, { authorization: `Bearer ${CALLER}` });
    expect(reload.status).toBe(403);
    const asReviewer = await fetch(`${s.url}/v1/decisions?limit=5`, {
      headers: { authorization: `Bearer ${REVIEWER}` },
    });
    expect(asReviewer.status).toBe(200);
    expect((await asReviewer.json().then(loose)).by).toBe("alice");
  });
});

describe("auth off (loopback, no tokens)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
  });
  it("needs no token", async () => {
    expect((await post(`${s.url}/v1/advisory`, readSituation)).status).toBe(200);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
  });
});

describe("cache", () => {
  let s: TestServer;
  let policyFile: string;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce" });
    policyFile = join(s.dir, "policy.yaml");
    writeFileSync(policyFile, readFileSync(DEFAULT_POLICY_PATH, "utf8"));
    s.ctx.reload = async () => createAdvisor({ policy: loadPolicy(policyFile) });
    s.ctx.service.replaceAdvisor(createAdvisor({ policy: loadPolicy(policyFile) }));
  });
  afterAll(async () => {
    await s.close();
  });

  const runtime = async () => (await (await fetch(`${s.url}/v1/runtime`)).json().then(loose)).cache;

  it("a repeated situation is a hit marked source cache; ids and timestamps within the hour do not matter", async () => {
    const first = await (await post(`${s.url}/v1/advisory`, { ...readSituation, request_id: "a" }))
      .json()
      .then(loose);
    expect(first.source).toBe("engine");
    const again = await (
      await post(`${s.url}/v1/advisory`, {
        ...readSituation,
        request_id: "b",
        timestamp: "2026-03-03T15:40:00Z",
      })
    )
      .json()
      .then(loose);
    expect(again.source).toBe("cache");
    expect(again.decision).toBe(first.decision);
    expect(again.decisionId).not.toBe(first.decisionId);
    expect((await s.store.get(again.decisionId))?.decision.source).toBe("cache");
    const c = await runtime();
    expect(c.hits).toBe(1);
    expect(c.misses).toBe(1);
  });

  it("a different local hour (off-hours signal) or a different trust is not served from the cache", async () => {
    const night = await (
      await post(`${s.url}/v1/advisory`, { ...readSituation, timestamp: "2026-03-03T07:30:00Z" })
    )
      .json()
      .then(loose);
    expect(night.source).not.toBe("cache");
    const lowTrust = await (
      await post(`${s.url}/v1/advisory`, {
        ...readSituation,
        t3_tensor: { competence: 0.5, reliability: 0.8, integrity: 0.9 },
      })
    )
      .json()
      .then(loose);
    expect(lowTrust.source).not.toBe("cache");
  });

  it("empties when the policy version changes", async () => {
    expect((await runtime()).size).toBeGreaterThan(0);
    const unchanged = await (await post(`${s.url}/v1/admin/reload`, {})).json().then(loose);
    expect(unchanged.changed).toBe(false);
    const hit = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(hit.source).toBe("cache");

    writeFileSync(
      policyFile,
      readFileSync(policyFile, "utf8").replace('version: "1.0.0"', 'version: "1.0.1"'),
    );
    const reloaded = await (await post(`${s.url}/v1/admin/reload`, {})).json().then(loose);
    expect(reloaded.changed).toBe(true);
    expect(reloaded.versions.policy).not.toBe(hit.versions.policy);
    const after = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(after.source).toBe("engine");
    expect(after.versions.policy).toBe(reloaded.versions.policy);
    expect((await runtime()).size).toBe(1);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/policy_advisor_cache_invalidations_total 1/);
  });

  it("a reload of a broken policy is refused (422 naming the field) and the running one stays", async () => {
    const before = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    writeFileSync(
      policyFile,
      readFileSync(policyFile, "utf8").replace("borderlineBand: 0.1", "borderlineBand: 7"),
    );
    const res = await post(`${s.url}/v1/admin/reload`, {});
    expect(res.status).toBe(422);
    const body = await res.json().then(loose);
    expect(body.error.code).toBe("invalid_policy");
    expect(body.error.message).toContain("trust.borderlineBand");
    const after = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(after.versions.policy).toBe(before.versions.policy);
  });
});

describe("cache off", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ cache: { enabled: false, ttlSeconds: 1, size: 1 } });
  });
  afterAll(async () => {
    await s.close();
  });
  it("never answers from the cache", async () => {
    await post(`${s.url}/v1/advisory`, readSituation);
    const again = await (await post(`${s.url}/v1/advisory`, readSituation)).json().then(loose);
    expect(again.source).toBe("engine");
    expect((await (await fetch(`${s.url}/v1/runtime`)).json().then(loose)).cache.enabled).toBe(false);
  });
});
