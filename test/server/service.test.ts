import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { loose, post, readSituation } from "./helpers.js";

const CALLER = "caller-token-for-service-tests";
const REVIEWER = "reviewer-token-for-service-tests";

describe("the service as serve starts it: store routes mounted behind the reviewer role", () => {
  let dir: string;
  let svc: RunningService;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pa-svc-"));
    const tokensFile = join(dir, "tokens");
    writeFileSync(tokensFile, `caller ${CALLER} hardbound\nreviewer ${REVIEWER} alice\n`);
    const rollout = join(dir, "rollout.yaml");
    writeFileSync(rollout, "defaultMode: shadow\ntiers:\n  read: advisory\n");
    svc = await startService(
      ServeConfigSchema.parse({ port: 0, db: join(dir, "d.db"), tokensFile, rollout, logLevel: "silent" }),
      {},
    );
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("modes come from the rollout file per tier", async () => {
    const body = await (await post(`${svc.url}/v1/advisory`, readSituation, as(CALLER))).json().then(loose);
    expect(body.tier).toBe("read");
    expect(body.mode).toBe("advisory");
    const rt = await (await fetch(`${svc.url}/v1/runtime`, { headers: as(CALLER) })).json().then(loose);
    expect(rt.modes).toMatchObject({ read: "advisory", write: "shadow", admin: "shadow" });
  });

  it("a reviewer lists, reviews (under the token's name), reads stats and rollout; a caller cannot", async () => {
    const d = await (await post(`${svc.url}/v1/advisory`, readSituation, as(CALLER))).json().then(loose);
    expect((await fetch(`${svc.url}/v1/decisions`, { headers: as(CALLER) })).status).toBe(403);
    const list = await (await fetch(`${svc.url}/v1/decisions?limit=10`, { headers: as(REVIEWER) }))
      .json()
      .then(loose);
    expect(list.total).toBeGreaterThanOrEqual(1);
    expect(list.items[0].decisionId).toBe(d.decisionId);

    const review = { finalDecision: "allow", category: "agree", notes: "fine" };
    expect((await post(`${svc.url}/v1/decisions/${d.decisionId}/review`, review, as(CALLER))).status).toBe(
      403,
    );
    const reviewed = await post(`${svc.url}/v1/decisions/${d.decisionId}/review`, review, as(REVIEWER));
    expect(reviewed.status).toBe(200);
    expect((await reviewed.json().then(loose)).review.reviewer).toBe("alice");

    expect((await fetch(`${svc.url}/v1/stats`, { headers: as(REVIEWER) })).status).toBe(200);
    const rollout = await (await fetch(`${svc.url}/v1/rollout`, { headers: as(REVIEWER) }))
      .json()
      .then(loose);
    expect(rollout.tiers.map((t: { tier: string }) => t.tier)).toContain("deploy_prod");
    expect((await fetch(`${svc.url}/v1/rollout`, { headers: as(CALLER) })).status).toBe(403);
  });

  it("the console is served without a token; /openapi.json lists the store routes too", async () => {
    const ui = await fetch(`${svc.url}/ui`, { redirect: "manual" });
    expect([302, 200]).toContain(ui.status);
    const doc = await (await fetch(`${svc.url}/openapi.json`)).json().then(loose);
    expect(doc.paths).toHaveProperty("/v1/decisions");
    expect(doc.paths).toHaveProperty("/v1/rollout");
  });
});
