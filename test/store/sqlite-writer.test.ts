import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { resolveServeConfig } from "../../src/server/config.js";
import { openStore, type SqliteSync } from "../../src/store/index.js";
import { makeRecord } from "./fixtures.js";

/**
 * The SQLite decision log commits appends on a writer thread of its own. What a caller must be able to
 * rely on: an acknowledged append is committed (another connection sees it at once) in either
 * durability mode, a failing commit names the log and does not wedge the writer, and the thread never
 * keeps a finished process alive.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "pa-perf-writer-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fresh = (name: string) => join(tmp, `${name}-${Math.random().toString(36).slice(2)}.db`);

describe("SQLite decision log writer thread", () => {
  for (const sync of ["normal", "full"] as SqliteSync[]) {
    it(`synchronous=${sync}: every acknowledged append is visible to another connection at once`, async () => {
      const path = fresh(sync);
      const store = await openStore(path, { sync });
      const reader = new Database(path, { readonly: true });
      const byId = reader.prepare("SELECT decision_id FROM decisions WHERE decision_id = ?");
      try {
        const ids = Array.from({ length: 200 }, (_, i) => `${sync}-${i}`);
        const missing: string[] = [];
        await Promise.all(
          ids.map(async (id) => {
            await store.append(makeRecord({ id }));
            if (byId.get(id) === undefined) missing.push(id);
          }),
        );
        expect(missing).toEqual([]);
        expect(store.commitStats.items).toBe(200);
        // Concurrent appends share transactions.
        expect(store.commitStats.batches).toBeLessThan(200);
      } finally {
        reader.close();
        await store.close();
      }
    });
  }

  it("synchronous=normal: under steady writes the WAL is emptied, not left to grow", async () => {
    const path = fresh("wal");
    const store = await openStore(path);
    try {
      let largest = 0;
      const walSize = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
      // Far more than 16 MB of WAL without truncation; 2 000 appends in flight at a time, no pause between.
      for (let done = 0; done < 60_000; done += 2_000) {
        await Promise.all(
          Array.from({ length: 2_000 }, (_, i) => store.append(makeRecord({ id: `wal-${done + i}` }))),
        );
        largest = Math.max(largest, walSize());
      }
      expect(await store.count({})).toBe(60_000);
      // Emptied at 16 MB (checked every 256 rows): never far past it.
      expect(largest).toBeLessThan(24 * 1024 * 1024);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("a commit that fails names the log, fails only its records, and the next one succeeds", async () => {
    const path = fresh("fail");
    const store = await openStore(path);
    try {
      await store.append(makeRecord({ id: "before" }));
      // Another process breaks the log under the running writer: its inserts can no longer succeed.
      const other = new Database(path);
      other.exec("ALTER TABLE decisions RENAME TO decisions_away");
      await expect(store.append(makeRecord({ id: "during" }))).rejects.toThrow(
        new RegExp(`decision log ${path}: .*no such table`),
      );
      other.exec("ALTER TABLE decisions_away RENAME TO decisions");
      other.close();
      await store.append(makeRecord({ id: "after" }));
      expect(await store.get("before")).toBeDefined();
      expect(await store.get("during")).toBeUndefined();
      expect(await store.get("after")).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("a process that appended and never closed the log still exits, with its records committed", () => {
    const path = fresh("exit");
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(ROOT, "test/store/append-exit.ts"), path, "50"],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("acked 50");
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT COUNT(*) AS n FROM decisions").get()).toEqual({ n: 50 });
    } finally {
      db.close();
    }
  });

  it("refuses an in-memory database: a log must outlive the process", async () => {
    await expect(openStore(":memory:")).rejects.toThrow(/in-memory database is not a log; give a file path/);
  });

  it("serve takes --db-sync normal|full (default normal) and names the flag when it is wrong", () => {
    expect(resolveServeConfig({}, { env: {} }).dbSync).toBe("normal");
    expect(resolveServeConfig({ dbSync: "full" }, { env: {} }).dbSync).toBe("full");
    expect(resolveServeConfig({}, { env: { POLICY_ADVISOR_DB_SYNC: "full" } }).dbSync).toBe("full");
    expect(() => resolveServeConfig({ dbSync: "fast" }, { env: {} })).toThrow(
      /--db-sync: expected one of "normal", "full"/,
    );
  });
});
