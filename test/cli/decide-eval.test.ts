import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../src/paths.js";
import { DecisionSchema } from "../../src/schemas/decision.js";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "pa-cli-"));
const good = {
  action_type: "read",
  actor_role: "member",
  actor_id: "user:a",
  t3_tensor: { competence: 0.7, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/x.md",
};

describe("policy-advisor decide", () => {
  it("prints the decision JSON of the contract for a request on stdin", () => {
    const r = cli(["decide"], JSON.stringify(good));
    expect(r.status).toBe(0);
    const d = DecisionSchema.parse(JSON.parse(r.stdout));
    expect(d.decision).toBe("allow");
    expect(d.source).toBe("engine");
    expect(d.versions.policy).toMatch(/^sha256:/);
  });

  it("reads --input FILE and accepts an R6Request", () => {
    const f = join(dir, "r6.json");
    writeFileSync(
      f,
      JSON.stringify({
        requestId: "r1",
        actorId: "user:bob",
        action: { type: "delete_team", target: "team:x" },
        context: {},
        trustState: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
        timestamp: "2026-03-11T15:00:00Z",
      }),
    );
    const r = cli(["decide", "--input", f]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).decision).toBe("deny");
  });

  it("exits 2 naming the bad field, without a stack trace", () => {
    const r = cli(
      ["decide"],
      JSON.stringify({ ...good, t3_tensor: { competence: 0.7, reliability: 0.8, integrity: 7 } }),
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("t3_tensor.integrity: expected a number between 0 and 1");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });

  it("exits 2 on input that is not JSON, naming the source", () => {
    const r = cli(["decide"], "{nope");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/standard input is not valid JSON/);
  });

  it("refuses an invalid policy at load with a clear message", () => {
    const f = join(dir, "bad-policy.yaml");
    writeFileSync(f, "id: x\nversion: '1'\nroles: {}\n");
    const r = cli(["decide", "--policy", f], JSON.stringify(good));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/policy .*bad-policy.yaml is invalid/);
    expect(r.stderr).toMatch(/actionClasses/);
  });

  it("asks for a model when engine llm has none", () => {
    const r = cli(["decide", "--engine", "llm"], JSON.stringify(good));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/required option '--model <gguf>' or '--llm-url <url>' \(for --engine llm\)/);
  });
});

describe("policy-advisor eval", () => {
  it("prints exactly one JSON object with --json, in the contract's shape", () => {
    const r = cli(["eval", "--scenarios", dataPath("scenarios", "seed-basic.json"), "--json"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const rep = JSON.parse(lines[0]!);
    expect(rep).toMatchObject({
      suite: "seed-basic",
      engine: "rules",
      total: 8,
      passed: 8,
      passRate: 1,
      decisionAccuracy: 1,
      acceptableRate: 1,
      criticalErrors: 0,
    });
    expect(rep.results[0]).toEqual(
      expect.objectContaining({
        id: "E01",
        expected: "allow",
        decision: "allow",
        decisions: ["allow"],
        correct: true,
        acceptable: true,
        passed: true,
      }),
    );
  });

  it("prints a readable table with per-difficulty lines", () => {
    const r = cli(["eval", "--scenarios", dataPath("scenarios", "seed-basic.json"), "--runs", "2"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/edge_case/);
    expect(r.stdout).toMatch(/passed 8\/8/);
  });

  it("names the bad scenario field of a suite by its path", () => {
    const f = join(dir, "suite.json");
    writeFileSync(
      f,
      JSON.stringify({
        suite: "s",
        scenarios: [
          {
            id: "A",
            situation: { ...good, t3_tensor: { competence: 2, reliability: 1, integrity: 1 } },
            expected: { decision: "allow" },
          },
        ],
      }),
    );
    const r = cli(["eval", "--scenarios", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("scenarios[0].situation.t3_tensor.competence");
  });

  it("counts a decision in alsoAcceptable as acceptable, not correct", () => {
    const f = join(dir, "acc.json");
    const risky = {
      ...good,
      action_type: "deploy",
      actor_role: "deployer",
      resource: "env:production",
      t3_tensor: { competence: 0.65, reliability: 0.7, integrity: 0.7 },
    };
    writeFileSync(
      f,
      JSON.stringify({
        suite: "a",
        scenarios: [
          {
            id: "Y",
            situation: risky,
            expected: { decision: "deny", alsoAcceptable: ["require_attestation"] },
          },
        ],
      }),
    );
    const rep = JSON.parse(cli(["eval", "--scenarios", f, "--json"]).stdout);
    expect(rep.results[0]).toMatchObject({
      decision: "require_attestation",
      correct: false,
      acceptable: true,
      passed: false,
    });
    expect(rep).toMatchObject({ decisionAccuracy: 0, acceptableRate: 1, criticalErrors: 0 });
  });

  it("scores a wrong allow as a critical error", () => {
    const f = join(dir, "crit.json");
    writeFileSync(
      f,
      JSON.stringify({
        suite: "c",
        scenarios: [
          {
            id: "X",
            difficulty: "trap",
            situation: good,
            expected: { decision: "deny", reasoningElements: ["public resource"] },
          },
        ],
      }),
    );
    const rep = JSON.parse(cli(["eval", "--scenarios", f, "--json"]).stdout);
    expect(rep.criticalErrors).toBe(1);
    expect(rep.passed).toBe(0);
  });
});
