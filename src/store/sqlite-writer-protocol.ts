/**
 * Messages between the SQLite decision log (main thread) and its writer thread
 * (src/store/sqlite-writer.ts). Types and constants only: both sides and the configuration import them.
 */

/**
 * How SQLite makes a commit durable (PRAGMA synchronous, WAL mode):
 * - "normal": a commit is written to the WAL file before append() resolves, so it survives a crash or
 *   kill -9 of the service; the WAL is fsynced at checkpoints, so a power loss or an OS crash may lose
 *   the last commits before the latest checkpoint (the database itself stays consistent).
 * - "full": every commit is also fsynced before append() resolves; survives a power loss too, at the
 *   cost of one fsync per group commit.
 */
export type SqliteSync = "normal" | "full";
/** The default: see SqliteSync. */
export const DEFAULT_SQLITE_SYNC: SqliteSync = "normal";
export const SQLITE_SYNC_VALUES = ["normal", "full"] as const satisfies readonly SqliteSync[];

export interface WriterInit {
  /**
   * writer: commits the batches it is sent (--db-sync full: the fsync per commit stays off the event loop).
   * checkpointer: commits nothing; copies the WAL into the database every checkpointEveryMs (--db-sync
   * normal, where the main thread commits and the checkpoints are the only fsyncs).
   */
  role: "writer" | "checkpointer";
  checkpointEveryMs?: number;
  path: string;
  sync: SqliteSync;
  busyTimeoutMs: number;
  /** The INSERT statement, with one anonymous parameter per column. */
  insertSql: string;
}

/** One row: the column values in the order of the INSERT's parameters. */
export type RowValues = Array<string | number | null>;

export type WriterRequest =
  | { kind: "batch"; id: number; rows: RowValues[] }
  /** Checkpointer: copy the whole WAL into the database and empty it, while the sender holds its commits. */
  | { kind: "truncate"; id: number }
  | { kind: "close" };

export type WriterReply =
  | { kind: "ready" }
  | { kind: "done"; id: number }
  /** id null: the writer could not start (the main thread names the file and the reason). */
  | { kind: "failed"; id: number | null; message: string; code?: string }
  | { kind: "closed" };
