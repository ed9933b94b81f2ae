import { describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { runSuite } from "../../src/eval/run.js";
import { loadSuite } from "../../src/eval/suite.js";
import { dataPath } from "../../src/paths.js";

describe("seed-basic suite (the reference's eight validation scenarios)", () => {
  it("decides all eight correctly with no critical error and full structure", async () => {
    const report = await runSuite(createAdvisor(), loadSuite(dataPath("scenarios", "seed-basic.json")));
    for (const r of report.results) {
      expect.soft(r.decision, `${r.id} decision`).toBe(r.expected);
      expect.soft(r.structureComplete, `${r.id} structure`).toBe(true);
    }
    expect(report.decisionAccuracy).toBe(1);
    expect(report.criticalErrors).toBe(0);
    expect(report.passed).toBe(8);
    expect(report.reasoningCoverage).toBeGreaterThanOrEqual(0.9);
  });

  it("labels the risk level the reference expected", async () => {
    const loaded = loadSuite(dataPath("scenarios", "seed-basic.json"));
    const report = await runSuite(createAdvisor(), loaded);
    for (const r of report.results) {
      const sc = loaded.suite.scenarios.find((s) => s.id === r.id)!;
      expect.soft(r.riskLevel, r.id).toBe(sc.expected.riskLevel);
    }
  });
});

describe("generalization suite (other words, other numbers)", () => {
  it("decides every scenario correctly or acceptably, with no critical error", async () => {
    const report = await runSuite(createAdvisor(), loadSuite(dataPath("scenarios", "generalization.json")));
    for (const r of report.results)
      expect.soft(r.correct || r.acceptable, `${r.id}: ${r.decision}`).toBe(true);
    expect(report.criticalErrors).toBe(0);
    expect(report.reasoningCoverage).toBeGreaterThanOrEqual(0.8);
  });
});
