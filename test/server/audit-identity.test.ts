import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRolloutConfig, Rollout, RolloutMetrics } from "../../src/rollout/index.js";
import type { DecisionRecord } from "../../src/schemas/records.js";
import { TokenSet } from "../../src/server/auth.js";
import { reviewRoutesFor } from "../../src/server/routes/review.js";
import { rolloutRoutesFor } from "../../src/server/routes/rollout.js";
import { openStore } from "../../src/store/index.js";
import { makeRecord } from "../store/fixtures.js";
import { loose, post, startTestServer, type TestServer } from "./helpers.js";

/**
 * Who reviewed, promoted or rolled back is what the audit trail is for: it comes from the bearer token
 * that passed auth, "anonymous" with auth off, and never from the request body.
 */

const REVIEWER = "reviewer-token-0123456789abcdef";

async function sidecar(tokens?: TokenSet): Promise<TestServer & { rollout: Rollout }> {
  const store = await openStore(join(mkdtempSync(join(tmpdir(), "pa-audit-")), "log.db"));
  const rollout = await Rollout.open({
    store,
    config: parseRolloutConfig({ gates: { minSample: 5 } }),
    applyConfig: true,
    metrics: new RolloutMetrics(new Registry()),
  });
  const s = await startTestServer({
    store,
    modes: rollout,
    ...(tokens ? { tokens } : {}),
    plugins: [reviewRoutesFor({ store, rollout }), rolloutRoutesFor({ rollout, store })],
  });
  return { ...s, rollout };
}

/** The error's issue for one field, as a client sees it. */
async function issueFor(res: Response, path: string): Promise<unknown> {
  const body = loose(await res.json());
  return body.error.issues.find((i: { path: string }) => i.path === path);
}

const refused = (field: string) => ({
  path: field,
  message: `not accepted: who acted is recorded from the bearer token's name ("anonymous" with auth off), so leave out ${field}`,
});

function describeIdentity(
  title: string,
  opts: { tokens?: TokenSet; as: string; headers: Record<string, string> },
) {
  describe(title, () => {
    let s: TestServer & { rollout: Rollout };
    beforeAll(async () => {
      s = await sidecar(opts.tokens);
    });
    afterAll(async () => s?.close());

    it(`a review is recorded as ${opts.as}; a body naming the reviewer is refused with 400 naming the field`, async () => {
      const rec = makeRecord({ tier: "read", mode: "advisory", decision: "allow" });
      await s.store.append(rec);
      const url = `${s.url}/v1/decisions/${rec.decisionId}/review`;
      const spoofed = await post(
        url,
        { finalDecision: "allow", category: "agree", reviewer: "mallory" },
        opts.headers,
      );
      expect(spoofed.status).toBe(400);
      expect(await issueFor(spoofed, "reviewer")).toEqual(refused("reviewer"));
      expect((await s.store.get(rec.decisionId))?.review).toBeUndefined();
      const ok = await post(url, { finalDecision: "allow", category: "agree" }, opts.headers);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as DecisionRecord).review?.reviewer).toBe(opts.as);
    });

    it(`a promotion and a rollback are recorded as ${opts.as}; "by" in the body is refused`, async () => {
      const promoteUrl = `${s.url}/v1/rollout/write/promote`;
      const spoofed = await post(promoteUrl, { note: "drill", force: true, by: "mallory" }, opts.headers);
      expect(spoofed.status).toBe(400);
      expect(await issueFor(spoofed, "by")).toEqual(refused("by"));
      expect(s.rollout.resolveMode("write")).toBe("shadow");
      const promoted = await post(promoteUrl, { note: "drill", force: true }, opts.headers);
      expect(promoted.status).toBe(200);
      expect(loose(await promoted.json()).promotions[0]).toMatchObject({
        by: opts.as,
        from: "shadow",
        to: "advisory",
      });

      const rollbackUrl = `${s.url}/v1/rollout/write/rollback`;
      const spoofedBack = await post(rollbackUrl, { reason: "drill", by: "mallory" }, opts.headers);
      expect(spoofedBack.status).toBe(400);
      expect(await issueFor(spoofedBack, "by")).toEqual(refused("by"));
      const back = await post(rollbackUrl, { reason: "drill" }, opts.headers);
      expect(back.status).toBe(200);
      expect(loose(await back.json()).rollbacks[0]).toMatchObject({ by: opts.as, reason: "drill" });

      const versionCalls = [
        { path: "/v1/rollout/versions/promote", body: { note: "x", by: "mallory" } },
        { path: "/v1/rollout/versions/rollback", body: { reason: "x", by: "mallory" } },
      ];
      for (const { path, body } of versionCalls) {
        const res = await post(`${s.url}${path}`, body, opts.headers);
        expect(res.status, path).toBe(400);
        expect(await issueFor(res, "by"), path).toEqual(refused("by"));
      }
      const events = await s.store.rolloutEvents("write");
      expect(events.map((e) => e.by)).not.toContain("mallory");
    });
  });
}

const tokens = new TokenSet();
tokens.add("reviewer", REVIEWER, "rita");
describeIdentity("audit identity with auth off", { as: "anonymous", headers: {} });
describeIdentity("audit identity with auth on", {
  tokens,
  as: "rita",
  headers: { authorization: `Bearer ${REVIEWER}` },
});
