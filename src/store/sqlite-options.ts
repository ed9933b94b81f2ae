/**
 * The SQLite log's own options. Plain types and constants, no driver: the service's configuration
 * imports them without loading better-sqlite3, and the writer thread's protocol names the durability.
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

/** What only a SQLite log takes (PostgreSQL ignores these; its durability is the server's synchronous_commit). */
export interface SqliteStoreOptions {
  /** How long to wait for a lock held by another process before failing (ms). */
  busyTimeoutMs?: number;
  /** "normal" (default) or "full" durability of each commit; see SqliteSync. */
  sync?: SqliteSync;
  /**
   * Refuse to create a new file (commands that read an existing log: report, replay, export, rollout),
   * so a mistyped path is an error rather than an empty report.
   */
  mustExist?: boolean;
}
