import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_PATH } from "../../src/policy/load.js";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "pa-doctor-nomodel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function doctor(args: string[], env: Record<string, string> = {}) {
  // cli() merges process.env: the POLICY_ADVISOR_* variables of the test run are blanked (empty = unset),
  // so only what a test passes configures serve.
  const blank = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith("POLICY_ADVISOR_"))
      .map((k) => [k, ""]),
  );
  return cli(["doctor", ...args], undefined, { ...blank, ...env });
}

const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("doctor without a model: the configuration, the policy and the decision log", () => {
  it("passes on serve's defaults and loads no model", () => {
    const r = doctor(["--db", join(dir, "a.db")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^PASS {2}config {7}no config file: serve would listen on 127\.0\.0\.1:8787, engine rules/m,
    );
    expect(r.stdout).toMatch(/^PASS {2}policy .*default\.yaml: valid, revision sha256:[0-9a-f]+, \d+ roles/m);
    expect(r.stdout).toMatch(/^PASS {2}decision_log .*a\.db is writable \(will be created\)/m);
    expect(r.stdout).not.toMatch(/gpu|inference|latency/);
    expect(r.stdout).toContain("all checks passed");
  });

  it("fails the configuration serve would refuse, naming the setting and where it came from", () => {
    const bad = file("bad.yaml", "port: eighty\n");
    const r = doctor(["--config", bad, "--db", join(dir, "b.db")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}config .*bad\.yaml: port: /m);
    expect(r.stdout).toMatch(/hint: serve would refuse to start/);

    const open = doctor(["--db", join(dir, "b.db")], { POLICY_ADVISOR_HOST: "0.0.0.0" });
    expect(open.status).toBe(1);
    expect(open.stdout).toMatch(
      /^FAIL {2}config .*POLICY_ADVISOR_HOST: --host 0\.0\.0\.0 exposes the service/m,
    );
  });

  it("reads the policy and the decision log from the configuration, and fails a broken policy by its field", () => {
    const broken = file(
      "broken.yaml",
      readFileSync(DEFAULT_POLICY_PATH, "utf8").replace(/threshold: 0\.5\b/, "threshold: 7"),
    );
    const config = file(
      "serve.yaml",
      `policy: ${broken}\ndb: ${join(dir, "no", "such", "dir", "x.db")}\nmode: advisory\n`,
    );
    const r = doctor(["--config", config]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}config .*serve\.yaml: .*every tier advisory/m);
    expect(r.stdout).toMatch(/^FAIL {2}policy .*broken\.yaml/m);
    expect(r.stdout).toMatch(/threshold/);
    expect(r.stdout).toMatch(/^FAIL {2}decision_log .*no\/such\/dir\/x\.db: directory .* does not exist/m);
  });

  it("checks the model the configuration names", () => {
    const config = file("hybrid.yaml", `engine: hybrid\nmodel: ${join(dir, "missing.gguf")}\n`);
    const r = doctor(["--config", config, "--db", join(dir, "c.db"), "--json"]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { target: string; checks: { name: string; passed: boolean }[] };
    expect(report.target).toContain("missing.gguf");
    expect(report.checks.map((c) => c.name)).toEqual([
      "config",
      "policy",
      "gpu",
      "memory",
      "load",
      "inference",
      "latency",
      "decision_log",
    ]);
    expect(report.checks.find((c) => c.name === "load")?.passed).toBe(false);
    // --json: nothing but the report, and no control codes anywhere.
    expect(r.stderr).not.toContain("\u001b[");
  });
});
