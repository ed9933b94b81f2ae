import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** test/ mirrors src/ (the rule is written down in test/README.md): a folder here names what it tests. */
const ROOT = new URL("../../", import.meta.url).pathname;
const TEST = join(ROOT, "test");
const dirs = (dir: string) => readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());

/** Folders of suites that test no single folder, and of helpers shared by several; each in test/README.md. */
const CROSS_CUTTING = ["architecture", "security", "reliability", "repository", "helpers"];
/** Top-level folders other than src/ that have tests of their own. */
const OTHER_TOP_LEVEL = ["ui", "clients", "deploy", "docs"];
/** Folders of data a test reads, beside it: no src/ counterpart. */
const DATA = ["cases", "fixtures"];

describe("test/ mirrors src/", () => {
  it("every folder of test/ is a folder of src/, another top-level folder, or a cross-cutting one", () => {
    const src = new Set(dirs(join(ROOT, "src")));
    const stray = dirs(TEST).filter(
      (d) => !src.has(d) && !CROSS_CUTTING.includes(d) && !OTHER_TOP_LEVEL.includes(d),
    );
    expect(stray, "move these tests to test/<the src folder they test>, see test/README.md").toEqual([]);
    for (const d of OTHER_TOP_LEVEL) expect(existsSync(join(ROOT, d)), d).toBe(true);
  });

  it("a subfolder of a src/ folder's tests mirrors a subfolder of that src/ folder, or holds data", () => {
    const stray: string[] = [];
    for (const d of dirs(join(ROOT, "src"))) {
      if (!existsSync(join(TEST, d))) continue;
      for (const sub of dirs(join(TEST, d))) {
        if (!DATA.includes(sub) && !existsSync(join(ROOT, "src", d, sub))) stray.push(`test/${d}/${sub}`);
      }
    }
    expect(stray).toEqual([]);
  });

  it("no test file sits at the top of test/, and test/README.md names every cross-cutting folder", () => {
    expect(readdirSync(TEST).filter((f) => f.endsWith(".ts"))).toEqual([]);
    const readme = readFileSync(join(TEST, "README.md"), "utf8");
    for (const d of CROSS_CUTTING) expect(readme, d).toContain(`test/${d}/`);
  });
});
