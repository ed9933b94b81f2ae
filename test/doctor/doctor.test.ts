import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/doctor/run.js";
import { TEST_THREADS, tinyModel } from "../helpers/model.js";

let model: ReturnType<typeof tinyModel>;
beforeAll(() => {
  model = tinyModel();
});
afterAll(() => model.cleanup());

const quiet = () => {};

describe("policy-advisor doctor", () => {
  it("checks a loadable model end to end; a synthetic one fails the known request, named as noise", async () => {
    const db = join(model.dir, "decisions.db");
    const r = await runDoctor({ model: model.path, threads: TEST_THREADS, db }, quiet, undefined, {});
    expect(r.checks.map((c) => c.name)).toEqual([
      "config",
      "policy",
      "gpu",
      "memory",
      "load",
      "inference",
      "latency",
      "decision_log",
    ]);
    for (const c of r.checks.filter((x) => x.name !== "inference"))
      expect(c, `${c.name}: ${c.detail}`).toMatchObject({ passed: true });
    // Random weights: whatever it answers, the known request's check cannot pass, and says why.
    const inference = r.checks.find((c) => c.name === "inference");
    expect(inference?.passed).toBe(false);
    expect(inference?.detail).toMatch(/known request E01 .* answered "(allow|deny|require_attestation)"/);
    expect(inference?.detail).toMatch(/synthetic \(random weights\): its answers are noise/);
    expect(inference?.hint).toMatch(/trained GGUF/);
    expect(r.ok).toBe(false);
    expect(r.device).toBe("cpu");
    expect(r.checks.find((c) => c.name === "gpu")?.detail).toMatch(/CPU fallback with 1 threads/);
    expect(r.checks.find((c) => c.name === "latency")?.detail).toMatch(/target 15\.0 s on CPU/);
    // The writability probe must not create the log or leave scratch files.
    expect(existsSync(db)).toBe(false);
    expect(readdirSync(model.dir).filter((f) => f.includes("doctor"))).toEqual([]);
  });

  it("fails with hints when the model is missing and the log directory does not exist", async () => {
    const r = await runDoctor(
      {
        model: join(model.dir, "missing.gguf"),
        threads: TEST_THREADS,
        db: join(model.dir, "no", "such", "x.db"),
      },
      quiet,
      undefined,
      {},
    );
    expect(r.ok).toBe(false);
    const byName = Object.fromEntries(r.checks.map((c) => [c.name, c]));
    expect(byName.load?.passed).toBe(false);
    expect(byName.load?.detail).toContain("missing.gguf");
    expect(byName.load?.hint).toMatch(/--model/);
    expect(byName.inference?.passed).toBe(false);
    expect(byName.decision_log?.passed).toBe(false);
    expect(byName.decision_log?.detail).toMatch(/does not exist/);
    expect(byName.decision_log?.hint).toMatch(/--db/);
  });

  it("exits non-zero from the command line when a check fails, and 2 for bad options", () => {
    const cli = ["--import", "tsx", "src/cli/main.ts"];
    const fail = spawnSync(
      process.execPath,
      [
        ...cli,
        "doctor",
        "--model",
        join(model.dir, "missing.gguf"),
        "--threads",
        "1",
        "--db",
        join(model.dir, "d.db"),
      ],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(fail.status).toBe(1);
    expect(fail.stdout).toMatch(/FAIL {2}load/);
    expect(fail.stdout).toMatch(/hint: /);

    const bad = spawnSync(
      process.execPath,
      [...cli, "doctor", "--model", model.path, "--llm-url", "http://127.0.0.1:9"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/either --model FILE or --llm-url URL/);
  });
});
