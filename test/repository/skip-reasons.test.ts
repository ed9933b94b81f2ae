import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";

const TEST_DIR = join(packageRoot, "test");

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}

/** What prints a skip's reason: the helpers that warn, or a message printed beside the skip itself. */
const SAYS_WHY = /externalAvailable\(|longTests\(|console\.(warn|log)\(`?["'`]?skip/;

/** The file says why itself, or a local module it imports does (e.g. test/ui/browser.ts for chromium). */
function saysWhy(file: string): boolean {
  const text = readFileSync(file, "utf8");
  if (SAYS_WHY.test(text)) return true;
  return [...text.matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g)].some((m) => {
    try {
      return SAYS_WHY.test(readFileSync(join(dirname(file), `${m[1]}.ts`), "utf8"));
    } catch {
      return false;
    }
  });
}

describe("a skipped test says why", () => {
  it("every file that can skip prints the reason through a helper or beside the skip", () => {
    const silent = testFiles(TEST_DIR).filter((f) => {
      const text = readFileSync(f, "utf8");
      return /\.skipIf\(|\bctx\.skip\(|\.skip\(/.test(text) && !saysWhy(f);
    });
    expect(silent.map((f) => relative(packageRoot, f))).toEqual([]);
  });

  it("the long tests, skipped outside CI, print how to run them", () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && k !== "CI" && k !== "POLICY_ADVISOR_LONG_TESTS") env[k] = v;
    const r = spawnSync(
      process.execPath,
      [
        join(packageRoot, "node_modules", "vitest", "vitest.mjs"),
        "run",
        "test/reliability/load.test.ts",
        "test/bench/bench.test.ts",
      ],
      { cwd: packageRoot, encoding: "utf8", env, timeout: 120_000 },
    );
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(out).toContain(
      "skipping the long load tests: they run in CI (CI=true) or with POLICY_ADVISOR_LONG_TESTS=1",
    );
    expect(out).toContain("skipping the long bench tests");
  }, 150_000);
});
