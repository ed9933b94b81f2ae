import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import type { DecisionRecord } from "../../src/schemas/records.js";
import { openStore } from "../../src/store/index.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const POLICY = fileURLToPath(new URL("../../data/policies/default.yaml", import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", MAIN, ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let db: string;
const ids: string[] = [];

/** A log of real decisions by the rules engine: 40 writes (4 with a disagreeing control), 40 reads. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pa-cli-"));
  db = join(dir, "log.db");
  const store = await openStore(db, { mask: ["details"] });
  const advisor = createAdvisor();
  const appends: Promise<void>[] = [];
  for (let i = 0; i < 80; i++) {
    const write = i < 40;
    const input = {
      action_type: write ? "commit" : "read",
      actor_role: "developer",
      actor_id: `user:dev${i % 5}`,
      t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
      resource: "src/app.ts",
      timestamp: "2026-03-03T15:00:00Z",
      details: "routine work",
    };
    const d = await advisor.advise(input);
    const control = write && i % 10 === 0 ? (d.decision === "allow" ? "deny" : "allow") : d.decision;
    const rec: DecisionRecord = {
      decisionId: d.decisionId,
      createdAt: new Date(Date.now() - i * 60_000).toISOString(),
      input,
      shape: "situation",
      decision: d,
      mode: write ? "shadow" : "advisory",
      tier: d.tier ?? (write ? "write" : "read"),
      control,
      effectiveDecision: control,
    };
    ids.push(d.decisionId);
    appends.push(store.append(rec));
  }
  await Promise.all(appends);
  await advisor.close();
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reviews n unreviewed decisions, each overriding the advice (a correction). */
async function correct(n: number) {
  const store = await openStore(db);
  const open = await store.query({ reviewed: false, limit: n });
  for (const r of open) {
    const allow = r.decision.decision === "allow";
    await store.review(r.decisionId, {
      reviewer: "rev",
      finalDecision: allow ? "deny" : "allow",
      category: allow ? "too_permissive" : "too_strict",
      notes: "checked",
      reviewedAt: new Date().toISOString(),
    });
  }
  await store.close();
}

describe("policy-advisor report / rollout / replay / export", () => {
  it("report --json prints the INTERFACES.md numbers and the success criteria", async () => {
    const r = await cli(["report", "--db", db, "--since", "2d", "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Record<string, unknown> & {
      criteria: { name: string; met: boolean | null }[];
    };
    expect(rep.decisions).toBe(80);
    expect(rep.agreementRate).toBe(0.95);
    expect(rep.overrideRate).toBeNull();
    expect(rep.errorRate).toBe(0);
    expect(rep.distribution).toMatchObject({
      allow: expect.any(Number),
      deny: expect.any(Number),
      require_attestation: expect.any(Number),
    });
    expect(Object.keys(rep.latencyMs as object)).toEqual(["p50", "p95", "p99"]);
    expect(rep.criteria.map((c) => [c.name, c.met])).toEqual([
      ["availability_above_99", true],
      ["p95_within_budget", true],
      ["error_rate_below_1", true],
      ["override_rate_below_10", null],
      ["zero_wrong_allows_high_risk", null],
      ["every_decision_with_reasoning", true],
    ]);
    expect((rep.topMismatches as unknown[]).length).toBeGreaterThan(0);
  }, 60_000);

  it("names a missing log, a bad date and a bad rollout file with exit status 2", async () => {
    const file = join(dir, "rollout.yaml");
    writeFileSync(file, "tiers:\n  read: loud\n");
    const [missing, bad, badFile] = await Promise.all([
      cli(["report", "--db", join(dir, "nope.db")]),
      cli(["report", "--db", db, "--since", "last tuesday"]),
      cli(["rollout", "status", "--db", db, "--rollout", file]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.db: no such file/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: expected an ISO 8601 date-time/);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/tiers\.read/);
  }, 60_000);

  it("rollout status, promote (refused, then through the gates) and rollback", async () => {
    const st = await cli(["rollout", "status", "--db", db, "--json"]);
    expect(st.code).toBe(0);
    const tiers = (
      JSON.parse(st.stdout) as { tiers: { tier: string; mode: string; measures: { decisions: number } }[] }
    ).tiers;
    expect(tiers.find((t) => t.tier === "write")).toMatchObject({
      mode: "shadow",
      measures: { decisions: 40 },
    });
    const refused = await cli(["rollout", "promote", "write", "--db", db, "--note", "go", "--by", "dana"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/agreement_sample \(40 decisions with a control \(need 100\)\)/);
    const file = join(dir, "small.yaml");
    writeFileSync(file, "gates:\n  minSample: 30\n");
    const ok = await cli([
      "rollout",
      "promote",
      "write",
      "--db",
      db,
      "--rollout",
      file,
      "--note",
      "90% over 40",
      "--by",
      "dana",
    ]);
    expect(ok.stdout).toMatch(/write: now advisory \(promoted by dana\)/);
    const back = await cli([
      "rollout",
      "rollback",
      "write",
      "--db",
      db,
      "--reason",
      "drill",
      "--by",
      "eve",
      "--json",
    ]);
    const after = JSON.parse(back.stdout) as { mode: string; rollbacks: { by: string; reason: string }[] };
    expect(after.mode).toBe("shadow");
    expect(after.rollbacks[0]).toMatchObject({ by: "eve", reason: "drill" });
  }, 60_000);

  it("replay with a stricter policy lists every changed decision", async () => {
    const strict = join(dir, "strict.yaml");
    // Writes now need trust 0.95: the logged allows on commits become refusals.
    writeFileSync(strict, readFileSync(POLICY, "utf8").replace(/threshold: 0\.5\b/, "threshold: 0.95"));
    const r = await cli(["replay", "--db", db, "--tier", "write", "--policy", strict, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      selected: number;
      replayed: number;
      agreementWithLogged: number;
      changed: { logged: string; replayed: string }[];
    };
    expect(rep.selected).toBe(40);
    expect(rep.replayed).toBe(40);
    expect(rep.changed.length).toBeGreaterThan(0);
    expect(rep.agreementWithLogged).toBe((40 - rep.changed.length) / 40);
    expect(rep.changed.every((c) => c.logged !== c.replayed)).toBe(true);
    const same = await cli(["replay", "--db", db, "--tier", "read", "--limit", "5", "--json"]);
    expect((JSON.parse(same.stdout) as { agreementWithLogged: number }).agreementWithLogged).toBe(1);
  }, 60_000);

  it("export refuses below 50 corrections saying how many, then writes chat examples", async () => {
    await correct(10);
    const out = join(dir, "train.jsonl");
    const refused = await cli(["export", "--db", db, "--out", out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only 10 corrections/);
    await correct(40);
    const ok = await cli(["export", "--db", db, "--out", out]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/wrote 50 examples to .* \(50 corrections, 0 agreements; 0 skipped\)/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines).toHaveLength(50);
    for (const line of lines) {
      const ex = JSON.parse(line) as {
        messages: { role: string; content: string }[];
        metadata: { final: string; advice: string };
      };
      expect(ex.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
      // The user message is the logged request as the prompt renders it (masked fields stay masked).
      expect(ex.messages[1]!.content).toContain("[masked]");
      // The default variant's compact answer: the correction leads the model's context judgement.
      const answer = JSON.parse(ex.messages[2]!.content) as { decision: string; context: string };
      expect(Object.keys(answer)).toEqual(["classification", "riskLevel", "decision", "context"]);
      expect(answer.decision).toBe(ex.metadata.final);
      expect(ex.metadata.final).not.toBe(ex.metadata.advice);
      expect(answer.context).toMatch(/^Reviewer correction \(too (permissive|strict)\): the decision is/);
    }
  }, 60_000);
});
