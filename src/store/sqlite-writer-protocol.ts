/**
 * Messages between the SQLite decision log (main thread) and its writer thread
 * (src/store/sqlite-writer.ts). Types only: both sides import them.
 */
import type { SqliteSync } from "./sqlite-options.js";

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
