import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "pa-make-model-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "testing", "make-model", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });

describe("policy-advisor testing make-model", () => {
  it("writes the tiny model and reports what it wrote", () => {
    const out = join(dir, "m.gguf");
    const r = run("--out", out, "--preset", "tiny");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/wrote .*m\.gguf: preset tiny, 1\.0M parameters/);
    expect(readFileSync(out).subarray(0, 4).toString("ascii")).toBe("GGUF");
  });

  it("rejects an unknown preset, a bad seed and a missing directory with exit 2 naming the option", () => {
    const preset = run("--out", join(dir, "x.gguf"), "--preset", "huge");
    expect(preset.status).toBe(2);
    expect(preset.stderr).toMatch(/--preset: unknown preset "huge"; expected one of tiny\|bench/);
    const seed = run("--out", join(dir, "x.gguf"), "--seed", "-3");
    expect(seed.status).toBe(2);
    expect(seed.stderr).toMatch(/--seed/);
    const missing = run("--out", join(dir, "no", "x.gguf"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--out: directory .* does not exist/);
  });
});
