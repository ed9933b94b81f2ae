import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import type { CandidateDecision } from "../schemas/records.js";
import type { RolloutEvent } from "../schemas/rollout.js";
import { LogFullError, StoreError } from "./errors.js";
import { CANDIDATE_OVERHEAD_BYTES, type DecisionRow, rowBytes, rowValues } from "./rows.js";
import * as sql from "./sql.js";
import { SqlStore } from "./sql-store.js";
import { DEFAULT_SQLITE_SYNC, type SqliteStoreOptions, type SqliteSync } from "./sqlite-options.js";
import type { RowValues, WriterInit } from "./sqlite-writer-protocol.js";
import { SqliteWriterThread } from "./sqlite-writer-thread.js";
import type { DecisionStore, LogSize, StoreOptions } from "./types.js";

/** Files up to this size get a full page check (PRAGMA quick_check) at open: about 2.5 ms per MB here. */
const QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024;

const INSERT_SQL = sql.insertDecisionStatement(sql.SQLITE);

/** Every this many rows, the main thread looks at the WAL's size; past WAL_TRUNCATE_BYTES it is emptied. */
const WAL_CHECK_EVERY_ROWS = 256;
const WAL_TRUNCATE_BYTES = 16 * 1024 * 1024;

function walBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** WAL pages (4 KB) after which the main connection checkpoints itself, should the checkpointer thread stop. */
const BACKSTOP_CHECKPOINT_PAGES = 20_000;

const syncPragma = (sync: SqliteSync): string => (sync === "full" ? "FULL" : "NORMAL");

/** Turns SQLite's terse codes into a message that says what to do. */
function openError(path: string, err: unknown): StoreError {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? "";
  let why = e.message ?? String(err);
  if (code === "SQLITE_NOTADB" || /not a database/i.test(why))
    why = "the file is not a SQLite database (corrupted, or some other file)";
  else if (code === "SQLITE_CORRUPT" || /malformed/i.test(why))
    why = "the database file is corrupted (malformed)";
  else if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || /locked/i.test(why))
    why = "the database file is locked by another process (another writer holds an exclusive lock)";
  else if (code === "SQLITE_CANTOPEN") why = "cannot open the file (missing directory or no permission)";
  else if (code === "SQLITE_READONLY" || /readonly/i.test(why)) why = "the database file is read-only";
  return new StoreError(`decision log ${path}: ${why}`, { cause: err });
}

export async function openSqliteStore(
  path: string,
  opts: StoreOptions & SqliteStoreOptions = {},
): Promise<DecisionStore> {
  if (path === ":memory:" || path.startsWith("file::memory:"))
    throw new StoreError(`decision log ${path}: an in-memory database is not a log; give a file path`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new StoreError(`decision log ${path}: is a directory, expected a file`);
  if (opts.mustExist && !existsSync(path)) {
    throw new StoreError(`decision log ${path}: no such file (give the --db the service writes to)`);
  }
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw openError(path, err);
  }
  try {
    // Reading the header first turns a foreign or truncated file into an error here, not an empty log.
    db.pragma("schema_version");
    db.pragma("journal_mode = WAL");
    // Per connection; the writer thread sets the same on its own (see SqliteSync for the trade-off).
    db.pragma(`synchronous = ${syncPragma(opts.sync ?? DEFAULT_SQLITE_SYNC)}`);
    db.exec(sql.tableDefinitions(sql.SQLITE));
    // quick_check reads every page: thorough for the sizes most logs have, too slow a start for huge ones,
    // which get a read of the newest record instead (later corruption still fails loudly, per query).
    const size = existsSync(path) ? statSync(path).size : 0;
    if (size <= QUICK_CHECK_MAX_BYTES) {
      const check = db.pragma("quick_check(1)", { simple: true });
      if (check !== "ok") throw Object.assign(new Error(String(check)), { code: "SQLITE_CORRUPT" });
    } else {
      db.prepare("SELECT * FROM decisions ORDER BY rowid DESC LIMIT 1").get();
    }
  } catch (err) {
    db.close();
    throw openError(path, err);
  }
  return new SqliteStore(db, path, opts);
}

class SqliteStore extends SqlStore {
  private readonly commit: (rows: RowValues[]) => Promise<void>;
  private readonly writer: SqliteWriterThread;
  private readonly pageSize: number;

  constructor(
    private readonly db: Database.Database,
    location: string,
    opts: StoreOptions & SqliteStoreOptions,
  ) {
    super(sql.SQLITE, location, opts);
    this.pageSize = Number(db.pragma("page_size", { simple: true }));
    const sync = opts.sync ?? DEFAULT_SQLITE_SYNC;
    const thread = (role: WriterInit["role"]) =>
      new SqliteWriterThread({
        role,
        path: location,
        sync,
        busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
        insertSql: INSERT_SQL,
      });
    if (sync === "full") {
      // An fsync per commit: committed by a thread of its own (sqlite-writer.ts), so that the event loop
      // keeps parsing and deciding while the disk works, and the next group commit grows meanwhile.
      this.writer = thread("writer");
      const writer = this.writer;
      this.commit = (rows) => writer.write(rows);
    } else {
      // No fsync per commit: committing here costs a few write(2) calls, less than a thread round trip.
      // The checkpoints (the fsyncs) run on a thread; this connection checkpoints only if that one stops.
      this.writer = thread("checkpointer");
      const checkpointer = this.writer;
      db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      const insert = db.prepare(INSERT_SQL);
      const insertMany = db.transaction((rows: RowValues[]) => {
        for (const row of rows) insert.run(row);
      });
      const wal = `${location}-wal`;
      let rowsSinceCheck = 0;
      this.commit = async (rows) => {
        rowsSinceCheck += rows.length;
        if (rowsSinceCheck >= WAL_CHECK_EVERY_ROWS) {
          rowsSinceCheck = 0;
          // The commits wait (not the event loop) while the checkpointer empties a large WAL.
          if (walBytes(wal) >= WAL_TRUNCATE_BYTES) await checkpointer.truncate().catch(() => undefined);
        }
        try {
          insertMany(rows);
        } catch (err) {
          const e = err as { message?: string; code?: string };
          throw Object.assign(
            new StoreError(`decision log ${location}: ${e.message ?? String(err)}`, { cause: err }),
            {
              ...(e.code ? { code: e.code } : {}),
            },
          );
        }
        checkpointer.ensureStarted().catch(() => undefined);
      };
    }
  }

  protected async all<T>(q: sql.Query): Promise<T[]> {
    return this.run<T>(q);
  }

  /** The same, synchronously: inside a better-sqlite3 transaction nothing may wait. */
  private run<T>(q: sql.Query): T[] {
    const stmt = this.db.prepare(q.text);
    if (stmt.reader) return stmt.all(...q.values) as T[];
    stmt.run(...q.values);
    return [];
  }

  protected async writeRows(rows: DecisionRow[]): Promise<void> {
    this.ensureRoom(rows.reduce((n, r) => n + rowBytes(r), 0));
    await this.commit(rows.map(rowValues));
  }

  protected async writeCandidate(c: CandidateDecision, output: string): Promise<void> {
    this.ensureRoom(Buffer.byteLength(output) + CANDIDATE_OVERHEAD_BYTES);
    this.run(sql.upsertCandidate(sql.SQLITE, c, output));
  }

  protected async deleteChunk(table: sql.PrunedTable, before: string): Promise<number> {
    const q = sql.pruneChunk(sql.SQLITE, table, before);
    return this.db.prepare(q.text).run(...q.values).changes;
  }

  /** Bytes of the database pages in use: the file less its free pages (which new rows reuse). */
  private usedBytes(): number {
    const pages = Number(this.db.pragma("page_count", { simple: true }));
    const free = Number(this.db.pragma("freelist_count", { simple: true }));
    return (pages - free) * this.pageSize;
  }

  /** Throws LogFullError when `bytes` more would take the log past its limit. */
  private ensureRoom(bytes: number): void {
    if (this.maxBytes === null) return;
    const used = this.usedBytes();
    if (used + bytes > this.maxBytes) throw new LogFullError(used, this.maxBytes);
  }

  async size(): Promise<LogSize> {
    return { bytes: this.usedBytes(), limit: this.maxBytes };
  }

  async appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined> {
    const cas = this.db.transaction((): RolloutEvent | undefined => {
      const [latest] = this.run<{ id: number | null }>(sql.latestRolloutEventId(sql.SQLITE, event.tier));
      if ((latest?.id ?? null) !== expectedLatestId) return undefined;
      const [row] = this.run<{ id: number }>(sql.insertRolloutEvent(sql.SQLITE, event));
      return { ...event, id: Number(row?.id) };
    });
    // IMMEDIATE takes the write lock before reading, so another process cannot slip in between.
    return cas.immediate();
  }

  protected async closeConnections(): Promise<void> {
    await this.writer.close();
    this.db.close();
  }
}
