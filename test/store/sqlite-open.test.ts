import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, StoreError } from "../../src/store/index.js";
import { makeRecord } from "./fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "pa-sqlite-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("opening a SQLite decision log", () => {
  it("refuses a file that is not a database instead of starting an empty log", async () => {
    const path = join(tmp, "garbage.db");
    writeFileSync(
      path,
      "this is not sqlite at all, just some text that happens to be long enough ".repeat(100),
    );
    const err = await openStore(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/not a SQLite database/);
  });

  it("refuses a database whose pages were overwritten", async () => {
    const path = join(tmp, "corrupt.db");
    const s = await openStore(path);
    for (let i = 0; i < 200; i++) await s.append(makeRecord({ id: `c-${i}` }));
    await s.close();
    const db = new Database(path);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    // Keep the header page, scribble over the rest.
    const { openSync, writeSync, closeSync, statSync } = await import("node:fs");
    const fd = openSync(path, "r+");
    const size = statSync(path).size;
    for (let off = 4096; off < size; off += 4096) writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, off);
    closeSync(fd);
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    const err = await openStore(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/corrupt|not a SQLite database/);
  });

  it("says the file is locked when another process holds it exclusively", async () => {
    const path = join(tmp, "locked.db");
    const other = new Database(path);
    other.pragma("journal_mode = DELETE");
    other.exec("CREATE TABLE t (x INTEGER)");
    other.exec("BEGIN EXCLUSIVE");
    other.exec("INSERT INTO t VALUES (1)");
    try {
      const err = await openStore(path, { busyTimeoutMs: 200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/locked by another process/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });

  it("names a directory or a missing parent directory", async () => {
    const dir = join(tmp, "adir");
    mkdirSync(dir);
    await expect(openStore(dir)).rejects.toThrow(/is a directory/);
    await expect(openStore(join(tmp, "missing", "x.db"))).rejects.toThrow(/directory does not exist/);
  });

  it("rejects unsupported URL schemes", async () => {
    await expect(openStore("mysql://localhost/db")).rejects.toThrow(/unsupported scheme/);
  });
});
