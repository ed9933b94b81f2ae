import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The table definitions are .sql files that tsc does not emit: the build copies them next to the compiled
 * store, and the package ships them. Reads dist/, which `npm test` builds first.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIALECTS = ["sqlite", "postgres"];
const dir = mkdtempSync(join(tmpdir(), "pa-package-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the table definitions in the build and the package", () => {
  it("the build copies each dialect's .sql file next to the compiled store, as it is in src", () => {
    for (const d of DIALECTS) {
      const built = join(ROOT, "dist/store/sql", `${d}.sql`);
      expect(existsSync(built), `${built} (run npm run build)`).toBe(true);
      expect(readFileSync(built, "utf8")).toBe(readFileSync(join(ROOT, "src/store/sql", `${d}.sql`), "utf8"));
    }
  });

  it("npm pack includes them", () => {
    // npm's own client when run by npm (npm test), else the one on the PATH.
    const npm = process.env.npm_execpath;
    const r = npm
      ? spawnSync(process.execPath, [npm, "pack", "--dry-run", "--ignore-scripts", "--json"], {
          cwd: ROOT,
          encoding: "utf8",
        })
      : spawnSync("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], {
          cwd: ROOT,
          encoding: "utf8",
        });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as [{ files: { path: string }[] }];
    const paths = pack.files.map((f) => f.path);
    for (const d of DIALECTS) expect(paths).toContain(`dist/store/sql/${d}.sql`);
  });

  it("the compiled store finds them: it opens a new SQLite log", async () => {
    const built = join(ROOT, "dist/store/index.js");
    const { openStore } = (await import(built)) as typeof import("../../src/store/index.js");
    const store = await openStore(join(dir, "log.db"));
    try {
      expect(store.dialect).toBe("sqlite");
      expect(await store.count({})).toBe(0);
    } finally {
      await store.close();
    }
  });
});
