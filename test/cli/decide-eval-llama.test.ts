import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPath } from "../../src/paths.js";
import { DecisionSchema } from "../../src/schemas/decision.js";
import { cli } from "../helpers/cli.js";
import { TEST_THREADS, tinyModel } from "../helpers/model.js";

/**
 * decide and eval through the real node-llama-cpp path on the synthetic model. Random weights: these
 * tests check structure and the guard rails, never decision quality.
 */
describe("decide and eval with an in-process synthetic GGUF model", () => {
  let model: ReturnType<typeof tinyModel>;
  beforeAll(() => {
    model = tinyModel();
  });
  afterAll(() => model?.cleanup());

  const llmFlags = () => ["--model", model.path, "--threads", String(TEST_THREADS), "--context-size", "8192"];

  it("decide --engine llm answers the contract's decision JSON from the model, with its versions", () => {
    const situation = {
      action_type: "commit",
      actor_role: "developer",
      actor_id: "user:t",
      t3_tensor: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
      resource: "repo:x",
    };
    const r = cli(
      ["decide", "--engine", "llm", ...llmFlags(), "--llm-timeout-ms", "60000"],
      JSON.stringify(situation),
    );
    expect(r.status, r.stderr).toBe(0);
    const d = DecisionSchema.parse(JSON.parse(r.stdout));
    expect(["llm", "fallback"]).toContain(d.source);
    expect(d.versions.model).toBeTruthy();
    expect(d.versions.modelSynthetic).toBe(true);
    expect(d.versions.prompt).toMatch(/@sha256:/);
  }, 130_000);

  it("spreads sequences over --contexts, and names a --contexts that does not divide --sequences", () => {
    const situation = JSON.stringify({
      action_type: "commit",
      actor_role: "developer",
      actor_id: "user:t",
      t3_tensor: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
    });
    const ok = cli(
      ["decide", "--engine", "llm", ...llmFlags(), "--sequences", "2", "--contexts", "2"],
      situation,
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(["llm", "fallback"]).toContain(JSON.parse(ok.stdout).source);
    const bad = cli(
      ["decide", "--engine", "llm", ...llmFlags(), "--sequences", "4", "--contexts", "3"],
      situation,
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--contexts 3: must divide --sequences \(4\)/);
  }, 130_000);

  it("decide --engine llm never loosens a rules deny, whatever the model says", () => {
    const r = cli(
      ["decide", "--engine", "llm", ...llmFlags()],
      JSON.stringify({
        action_type: "delete_team",
        actor_role: "developer",
        actor_id: "user:t",
        t3_tensor: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
      }),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).decision).toBe("deny");
  }, 130_000);

  it("eval --engine hybrid runs the seed suite end to end, within the rules' guard rails", () => {
    const suite = dataPath("scenarios", "seed-basic.json");
    const rules = JSON.parse(cli(["eval", "--scenarios", suite, "--json"]).stdout);
    const r = cli(
      [
        "eval",
        "--scenarios",
        suite,
        "--engine",
        "hybrid",
        ...llmFlags(),
        "--llm-timeout-ms",
        "60000",
        "--lexical",
        "--json",
      ],
      undefined,
      {},
      280_000,
    );
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.total).toBe(8);
    expect(rep.engine).toBe("hybrid");
    for (const x of rep.results) {
      const base = rules.results.find((y: { id: string }) => y.id === x.id);
      expect(["allow", "deny", "require_attestation"]).toContain(x.decision);
      // Whatever a random model says: a rules deny stands, and no high-risk attestation becomes an allow.
      if (base.decision === "deny") expect(x.decision, x.id).toBe("deny");
      if (base.decision === "require_attestation" && ["high", "critical"].includes(base.riskLevel))
        expect(x.decision, x.id).not.toBe("allow");
    }
    // Eight scenarios through a real in-process model: tens of seconds on a loaded 2-core machine, where
    // 30 s did not hold; the CLI's own bound (280 s) fails first with its output if it ever hangs.
  }, 300_000);
});
