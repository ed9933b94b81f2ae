import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { dataPath } from "../../src/paths.js";
import { DEFAULT_POLICY_PATH } from "../../src/policy/load.js";
import { openStore } from "../../src/store/index.js";
import { BIN, cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "pa-progress-"));
const db = join(dir, "log.db");
const strict = join(dir, "strict.yaml");
const SEED = dataPath("scenarios", "seed-basic.json");
const ESC = "\u001b[";

/** Twenty logged commits; the strict policy (writes need trust 0.9) changes the ten low-trust ones. */
beforeAll(async () => {
  writeFileSync(
    strict,
    readFileSync(DEFAULT_POLICY_PATH, "utf8").replace(/threshold: 0\.5\b/, "threshold: 0.9"),
  );
  const store = await openStore(db);
  const advisor = createAdvisor();
  try {
    for (let i = 0; i < 20; i++) {
      const trust = i < 10 ? 0.7 : 0.95;
      const input = {
        action_type: "commit",
        actor_role: "developer",
        actor_id: `user:d${i}`,
        t3_tensor: { competence: trust, reliability: trust, integrity: trust },
        resource: "src/app.ts",
        timestamp: "2026-03-03T15:00:00Z",
      };
      const d = await advisor.advise(input);
      await store.append({
        decisionId: d.decisionId,
        createdAt: new Date(Date.now() - (20 - i) * 60_000).toISOString(),
        input,
        shape: "situation",
        decision: d,
        mode: "shadow",
        tier: d.tier ?? "write",
        effectiveDecision: d.decision,
      });
    }
  } finally {
    await store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHORT: Record<string, string> = { allow: "allow", deny: "deny", require_attestation: "attest" };

describe("replay's summary per transition", () => {
  it("counts the changed decisions by transition, before the list of them", () => {
    const json = cli(["replay", "--db", db, "--policy", strict, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      changed: { logged: string; replayed: string }[];
      transitions: { from: string; to: string; count: number }[];
    };
    expect(report.changed).toHaveLength(10);
    expect(report.transitions.reduce((n, t) => n + t.count, 0)).toBe(10);
    for (const t of report.transitions) {
      expect(t.from).toBe("allow");
      expect(report.changed.filter((c) => c.logged === t.from && c.replayed === t.to)).toHaveLength(t.count);
    }

    const text = cli(["replay", "--db", db, "--policy", strict]);
    expect(text.status, text.stderr).toBe(0);
    const summary = report.transitions.map((t) => `${SHORT[t.from]}→${SHORT[t.to]}: ${t.count}`).join(", ");
    expect(text.stdout).toContain(`changes by transition: ${summary}`);
    expect(text.stdout.indexOf("changes by transition")).toBeLessThan(
      text.stdout.indexOf("changed decisions:"),
    );
    // Piped: no bar, no control codes.
    expect(text.stderr + text.stdout).not.toContain(ESC);
  });
});

const hasScript = spawnSync("script", ["--version"]).status === 0;
if (!hasScript)
  console.warn("skipping the progress bar tests: util-linux `script` (a pseudo-terminal) is absent");

describe.skipIf(!hasScript)("progress bars with an ETA on a terminal", () => {
  // Neither NO_COLOR nor CI from the test run: each case sets what it is about.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && k !== "NO_COLOR" && k !== "CI") env[k] = v;
  /** Runs the bin on a pseudo-terminal: stdout and stderr both arrive on the terminal's output. */
  const onTty = (args: string[], extra: Record<string, string> = {}) => {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
    const r = spawnSync("script", ["-qec", quoted, "/dev/null"], {
      encoding: "utf8",
      env: { ...env, TERM: "xterm", COLUMNS: "120", ...extra },
      timeout: 120_000,
    });
    return { status: r.status, out: r.stdout };
  };
  const bar = (title: string, unit: string) =>
    new RegExp(`${title} \\S+ \\d+/\\d+ ${unit} \\| \\d+% \\| ETA `);

  // bench runs for seconds each time: its --json case is the same code path as the others'.
  const commands: [string, string[], string, boolean][] = [
    ["replay", ["replay", "--db", db, "--policy", strict], "decisions", true],
    ["eval", ["eval", "--scenarios", SEED], "decisions", true],
    ["doctor", ["doctor", "--db", join(dir, "doctor.db")], "checks", true],
    ["bench", ["bench", "--only", "engine", "--quick"], "sections", false],
  ];
  it.each(commands)(
    "%s draws one on a terminal, and none with NO_COLOR or --json",
    (title, args, unit, json) => {
      const tty = onTty(args);
      expect(tty.out).toMatch(bar(title, unit));
      expect(tty.out).toContain(ESC);
      const noColour = onTty(args, { NO_COLOR: "1" });
      expect(noColour.out).not.toMatch(bar(title, unit));
      expect(noColour.out).not.toContain(ESC);
      if (json) {
        const quiet = onTty([...args, "--json"]);
        expect(quiet.out).not.toMatch(bar(title, unit));
        expect(quiet.out).not.toContain(ESC);
      }
    },
    120_000,
  );
});
