import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { LogFullError, StoreError } from "./errors.js";
import { GroupCommitter } from "./group-commit.js";
import { Masker } from "./mask.js";
import {
  CANDIDATE_OVERHEAD_BYTES,
  DECISION_COLUMNS,
  type DecisionRow,
  eventFromRow,
  FACT_COLUMNS,
  type FactRow,
  factsFromRow,
  fromRow,
  normalizeTime,
  type RolloutEventRow,
  rowBytes,
  rowValues,
  toRow,
  type VersionEventRow,
  versionEventFromRow,
  whereClause,
} from "./rows.js";
import {
  DEFAULT_SQLITE_SYNC,
  type RowValues,
  type SqliteSync,
  type WriterInit,
} from "./sqlite-writer-protocol.js";
import { SqliteWriterThread } from "./sqlite-writer-thread.js";
import type {
  CandidateDecision,
  DecisionFacts,
  DecisionQuery,
  DecisionRecord,
  DecisionStore,
  LogSize,
  PruneResult,
  Review,
  RolloutEvent,
  StoreOptions,
  VersionEvent,
} from "./types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  decision_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  tier TEXT NOT NULL,
  mode TEXT NOT NULL,
  decision TEXT NOT NULL,
  effective TEXT NOT NULL,
  control TEXT,
  mismatch INTEGER NOT NULL DEFAULT 0,
  actor TEXT,
  action TEXT,
  source TEXT NOT NULL,
  risk TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  policy_version TEXT NOT NULL,
  prompt_version TEXT,
  model_version TEXT,
  shape TEXT NOT NULL,
  input TEXT NOT NULL,
  output TEXT NOT NULL,
  review TEXT,
  reviewed_at TEXT,
  final_decision TEXT
);
CREATE INDEX IF NOT EXISTS decisions_created ON decisions (created_at);
CREATE INDEX IF NOT EXISTS decisions_tier_created ON decisions (tier, created_at);
CREATE INDEX IF NOT EXISTS decisions_unreviewed ON decisions (mode, reviewed_at, created_at);
CREATE TABLE IF NOT EXISTS rollout_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  tier TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_mode TEXT,
  to_mode TEXT NOT NULL,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL,
  trigger_name TEXT
);
CREATE TABLE IF NOT EXISTS candidate_decisions (
  decision_id TEXT NOT NULL,
  candidate TEXT NOT NULL,
  created_at TEXT NOT NULL,
  output TEXT NOT NULL,
  PRIMARY KEY (decision_id, candidate)
);
CREATE TABLE IF NOT EXISTS version_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_version TEXT,
  to_version TEXT NOT NULL,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL);
`;

/** Files up to this size get a full page check (PRAGMA quick_check) at open: about 2.5 ms per MB here. */
const QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024;

const INSERT_SQL = `INSERT INTO decisions (${DECISION_COLUMNS.join(", ")}) VALUES (${DECISION_COLUMNS.map(() => "?").join(", ")})`;

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

/** Rows deleted per statement when pruning: small enough that each delete is a few milliseconds. */
const PRUNE_CHUNK = 2000;

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

export async function openSqliteStore(path: string, opts: StoreOptions = {}): Promise<DecisionStore> {
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
    db.exec(SCHEMA);
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

class SqliteStore implements DecisionStore {
  readonly kind = "sqlite" as const;
  private readonly masker: Masker;
  private readonly committer: GroupCommitter<DecisionRecord>;
  private readonly writer: SqliteWriterThread;
  private readonly maxBytes: number | null;
  private readonly pageSize: number;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    opts: StoreOptions,
  ) {
    this.masker = new Masker(opts.mask ?? []);
    this.maxBytes = opts.maxBytes ?? null;
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
    let commit: (rows: RowValues[]) => Promise<void>;
    if (sync === "full") {
      // An fsync per commit: committed by a thread of its own (sqlite-writer.ts), so that the event loop
      // keeps parsing and deciding while the disk works, and the next group commit grows meanwhile.
      this.writer = thread("writer");
      const writer = this.writer;
      commit = (rows) => writer.write(rows);
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
      commit = async (rows) => {
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
    this.committer = new GroupCommitter<DecisionRecord>(
      {
        writeBatch: async (records) => {
          // Masking and serialisation before the transaction: a bad record fails alone, not its batch.
          const rows = records.map((r) => toRow(this.masker.record(r)));
          // A batch that does not fit is refused whole; the committer then retries each record alone,
          // so those that still fit are written and only the rest are refused.
          this.ensureRoom(rows.reduce((n, r) => n + rowBytes(r), 0));
          await commit(rows.map(rowValues));
        },
      },
      opts.maxBatch ?? 500,
    );
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

  async prune(before: string): Promise<PruneResult> {
    if (this.closed) throw new StoreError("decision log is closed");
    const cutoff = normalizeTime(before, "before");
    const run = async (table: "decisions" | "candidate_decisions"): Promise<number> => {
      const del = this.db.prepare(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE created_at < ? LIMIT ${PRUNE_CHUNK})`,
      );
      let total = 0;
      for (;;) {
        const n = del.run(cutoff).changes;
        total += n;
        if (n < PRUNE_CHUNK) return total;
        // Let requests in between chunks: a large first prune must not stall the service.
        await new Promise((r) => setImmediate(r));
      }
    };
    const decisions = await run("decisions");
    const candidates = await run("candidate_decisions");
    return { decisions, candidates };
  }

  get commitStats(): DecisionStore["commitStats"] {
    return this.committer.stats;
  }

  append(record: DecisionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError("decision log is closed"));
    return this.committer.add(record);
  }

  async get(decisionId: string): Promise<DecisionRecord | undefined> {
    const row = this.db.prepare("SELECT * FROM decisions WHERE decision_id = ?").get(decisionId) as
      | DecisionRow
      | undefined;
    return row ? fromRow(row) : undefined;
  }

  async query(q: DecisionQuery): Promise<DecisionRecord[]> {
    const { sql, params } = whereClause(q, () => "?", "LIKE");
    const order = q.order === "asc" ? "ASC" : "DESC";
    const rows = this.db
      .prepare(
        `SELECT * FROM decisions ${sql} ORDER BY created_at ${order}, decision_id ${order} LIMIT ? OFFSET ?`,
      )
      .all(...params, q.limit ?? -1, q.offset ?? 0) as DecisionRow[];
    return rows.map(fromRow);
  }

  async facts(q: DecisionQuery): Promise<DecisionFacts[]> {
    const { sql, params } = whereClause(q, () => "?", "LIKE");
    const order = q.order === "asc" ? "ASC" : "DESC";
    const rows = this.db
      .prepare(
        `SELECT ${FACT_COLUMNS} FROM decisions ${sql} ORDER BY created_at ${order}, decision_id ${order} LIMIT ? OFFSET ?`,
      )
      .all(...params, q.limit ?? -1, q.offset ?? 0) as FactRow[];
    return rows.map(factsFromRow);
  }

  async count(q: DecisionQuery): Promise<number> {
    const { sql, params } = whereClause(q, () => "?", "LIKE");
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM decisions ${sql}`).get(...params) as { n: number };
    return row.n;
  }

  async review(decisionId: string, review: Review): Promise<DecisionRecord | undefined> {
    const info = this.db
      .prepare("UPDATE decisions SET review = ?, reviewed_at = ?, final_decision = ? WHERE decision_id = ?")
      .run(
        JSON.stringify(review),
        new Date(review.reviewedAt).toISOString(),
        review.finalDecision,
        decisionId,
      );
    return info.changes === 0 ? undefined : this.get(decisionId);
  }

  /** One rollout event row; the caller decides whether it runs inside a transaction. */
  private insertRolloutEvent(event: RolloutEvent): RolloutEvent {
    const info = this.db
      .prepare(
        "INSERT INTO rollout_events (at, tier, kind, from_mode, to_mode, by_whom, reason, trigger_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        event.at,
        event.tier,
        event.kind,
        event.from,
        event.to,
        event.by,
        event.reason,
        event.trigger ?? null,
      );
    return { ...event, id: Number(info.lastInsertRowid) };
  }

  async appendRolloutEvent(event: RolloutEvent): Promise<RolloutEvent> {
    return this.insertRolloutEvent(event);
  }

  async appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined> {
    const latest = this.db.prepare("SELECT MAX(id) AS id FROM rollout_events WHERE tier = ?");
    const cas = this.db.transaction((): RolloutEvent | undefined => {
      const row = latest.get(event.tier) as { id: number | null };
      if ((row.id ?? null) !== expectedLatestId) return undefined;
      return this.insertRolloutEvent(event);
    });
    // IMMEDIATE takes the write lock before reading, so another process cannot slip in between.
    return cas.immediate();
  }

  async rolloutEvents(tier?: string): Promise<RolloutEvent[]> {
    const rows = (
      tier
        ? this.db.prepare("SELECT * FROM rollout_events WHERE tier = ? ORDER BY id").all(tier)
        : this.db.prepare("SELECT * FROM rollout_events ORDER BY id").all()
    ) as RolloutEventRow[];
    return rows.map(eventFromRow);
  }

  async appendVersionEvent(event: VersionEvent): Promise<VersionEvent> {
    const info = this.db
      .prepare(
        "INSERT INTO version_events (at, kind, from_version, to_version, by_whom, reason) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(
        event.at,
        event.kind,
        event.from ? JSON.stringify(event.from) : null,
        JSON.stringify(event.to),
        event.by,
        event.reason,
      );
    return { ...event, id: Number(info.lastInsertRowid) };
  }

  async versionEvents(): Promise<VersionEvent[]> {
    return (this.db.prepare("SELECT * FROM version_events ORDER BY id").all() as VersionEventRow[]).map(
      versionEventFromRow,
    );
  }

  async appendCandidate(c: CandidateDecision, request?: unknown): Promise<void> {
    const output = JSON.stringify(this.masker.scrubDecision(c.decision, this.masker.secretsOf(request)));
    this.ensureRoom(Buffer.byteLength(output) + CANDIDATE_OVERHEAD_BYTES);
    this.db
      .prepare(
        "INSERT OR REPLACE INTO candidate_decisions (decision_id, candidate, created_at, output) VALUES (?, ?, ?, ?)",
      )
      .run(c.decisionId, c.candidate, new Date(c.createdAt).toISOString(), output);
  }

  async candidates(q: { since?: string; until?: string; candidate?: string }): Promise<CandidateDecision[]> {
    const parts: string[] = [];
    const params: string[] = [];
    const add = (sql: string, value: string) => {
      parts.push(sql);
      params.push(value);
    };
    if (q.since) add("created_at >= ?", normalizeTime(q.since, "since"));
    if (q.until) add("created_at < ?", normalizeTime(q.until, "until"));
    if (q.candidate) add("candidate = ?", q.candidate);
    const where = parts.length ? `WHERE ${parts.join(" AND ")}` : "";
    const rows = this.db
      .prepare(`SELECT * FROM candidate_decisions ${where} ORDER BY created_at`)
      .all(...params) as { decision_id: string; candidate: string; created_at: string; output: string }[];
    return rows.map((r) => ({
      decisionId: r.decision_id,
      candidate: r.candidate,
      createdAt: r.created_at,
      decision: JSON.parse(r.output) as CandidateDecision["decision"],
    }));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreError("decision log is closed");
    this.db.prepare("INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)").run(new Date().toISOString());
    this.db.prepare("SELECT at FROM probe WHERE id = 1").get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.committer.drain();
    await this.writer.close();
    this.db.close();
  }
}
