import { StoreError } from "./errors.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";
import type { SqliteStoreOptions } from "./sqlite-options.js";
import type { DecisionStore, StoreOptions } from "./types.js";

export { appendOnce } from "./append-once.js";
export { formatBytes, LogFullError, StoreError } from "./errors.js";
export { MASKED, Masker, maskInput, parseMaskPaths } from "./mask.js";
export {
  DEFAULT_SQLITE_SYNC,
  SQLITE_SYNC_VALUES,
  type SqliteStoreOptions,
  type SqliteSync,
} from "./sqlite-options.js";
export type * from "./types.js";

/** The decision log used when no --db is given. */
export const DEFAULT_DB = "./policy-advisor.db";

/**
 * Opens the decision log named by `url`: a postgres:// or postgresql:// URL, or a SQLite file path
 * (optionally as sqlite:PATH or file:PATH). Throws StoreError with a clear reason when it cannot.
 */
export async function openStore(
  url: string = DEFAULT_DB,
  opts: StoreOptions & SqliteStoreOptions = {},
): Promise<DecisionStore> {
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgresStore(url, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:/i.test(url)) {
    throw new StoreError(
      `--db ${url}: unsupported scheme; use a SQLite file path or postgres://user@host:port/db`,
    );
  }
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, "");
  if (path.length === 0) throw new StoreError("--db: empty path");
  return openSqliteStore(path, opts);
}
