import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRolloutConfig } from "../../src/rollout/config.js";
import { promoteVersion, rollbackVersion } from "../../src/rollout/versions.js";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { loose, post } from "./helpers.js";
import { type ModelServer, startModelServer } from "./model-server.js";

/** A request the rules find nuanced (borderline trust), so the hybrid engine asks the model. */
const nuanced = {
  action_type: "deploy",
  actor_role: "deployer",
  actor_id: "user:charlie",
  t3_tensor: { competence: 0.72, reliability: 0.68, integrity: 0.75 },
  resource: "env:production",
};

describe("prompt/model versions in a running sidecar: candidate A/B in shadow, promotion, rollback", () => {
  let dir: string;
  let model: ModelServer;
  let svc: RunningService;
  const rolloutYaml = [
    "defaultMode: advisory",
    "versions:",
    "  current: { name: v1-json, prompt: default }",
    "  candidate: { name: v2-text, prompt: free-text }",
  ].join("\n");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pa-versions-"));
    model = await startModelServer(0);
    const rollout = join(dir, "rollout.yaml");
    writeFileSync(rollout, rolloutYaml);
    svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db: join(dir, "d.db"),
        rollout,
        engine: "hybrid",
        llmUrl: model.url,
        llmModel: "slow-model",
        logLevel: "silent",
      }),
      {},
    );
  });
  afterAll(async () => {
    await svc?.close();
    await model?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the current version and lets the candidate decide the same requests off the critical path", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = loose(await (await post(`${svc.url}/v1/advisory`, nuanced)).json());
      expect(String((body.versions as { prompt: string }).prompt)).toMatch(/^default@/);
      ids.push(String(body.decisionId));
    }
    // The candidate runs after each answer; wait for it to have logged its decisions.
    const deadline = Date.now() + 10_000;
    let cands = await svc.ctx.store.candidates({ candidate: "v2-text" });
    while (cands.length < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      cands = await svc.ctx.store.candidates({ candidate: "v2-text" });
    }
    expect(cands.length).toBeGreaterThanOrEqual(1);
    for (const c of cands) {
      expect(ids).toContain(c.decisionId);
      expect(c.decision.versions.prompt).toMatch(/^free-text@/);
    }
  });

  it("switches the live version after a promotion, and back after a rollback", async () => {
    const config = parseRolloutConfig({
      versions: {
        current: { name: "v1-json", prompt: "default" },
        candidate: { name: "v2-text", prompt: "free-text" },
      },
    });
    await promoteVersion(svc.ctx.store, config, "test", "promote for the test", true);
    await svc.reload();
    let body = loose(await (await post(`${svc.url}/v1/advisory`, nuanced)).json());
    expect(String((body.versions as { prompt: string }).prompt)).toMatch(/^free-text@/);

    await rollbackVersion(svc.ctx.store, config, "test", "roll back for the test");
    await svc.reload();
    body = loose(await (await post(`${svc.url}/v1/advisory`, nuanced)).json());
    expect(String((body.versions as { prompt: string }).prompt)).toMatch(/^default@/);
  });
});
