import { randomUUID } from "node:crypto";
import pg from "pg";
import type { CandidateDecision } from "../schemas/records.js";
import type { RolloutEvent } from "../schemas/rollout.js";
import { LogFullError, StoreError } from "./errors.js";
import {
  CANDIDATE_OVERHEAD_BYTES,
  type DecisionRow,
  ROW_OVERHEAD_BYTES,
  rowBytes,
  rowValues,
} from "./rows.js";
import * as sql from "./sql.js";
import { SqlStore } from "./sql-store.js";
import type { DecisionStore, LogSize, StoreOptions } from "./types.js";

/**
 * The log's size is counted, not measured: a table's disk size never shrinks after a DELETE, and summing
 * every row would read the whole table. Each open store adds what it writes and subtracts what it prunes
 * in a row of its own of log_bytes (in the same statement as the write: the count cannot drift), so
 * sidecars sharing the log never wait on one another's counter; their sum is the size. A log that predates
 * the counter is measured once, and the rows of stores long gone are folded into one at each open.
 */
const DECISION_BYTES_SQL = `octet_length(input) + octet_length(output) + ${ROW_OVERHEAD_BYTES}`;
const CANDIDATE_BYTES_SQL = `octet_length(output) + ${CANDIDATE_OVERHEAD_BYTES}`;
const SIZE_BASELINE = `
INSERT INTO log_bytes (owner, bytes)
SELECT 'baseline',
  (SELECT COALESCE(SUM(${DECISION_BYTES_SQL}), 0) FROM decisions) +
  (SELECT COALESCE(SUM(${CANDIDATE_BYTES_SQL}), 0) FROM candidate_decisions)
WHERE NOT EXISTS (SELECT 1 FROM log_bytes);
WITH gone AS (DELETE FROM log_bytes WHERE owner <> 'baseline' RETURNING bytes)
UPDATE log_bytes SET bytes = bytes + (SELECT COALESCE(SUM(bytes), 0) FROM gone) WHERE owner = 'baseline';
`;
const ADD_BYTES = (ownerParam: string, cte: string) =>
  `INSERT INTO log_bytes (owner, bytes) SELECT ${ownerParam}, COALESCE(SUM(n), 0) FROM ${cte}
   ON CONFLICT (owner) DO UPDATE SET bytes = log_bytes.bytes + EXCLUDED.bytes`;

/** The statement `q` (whose RETURNING gives each row's bytes as n) with those bytes added to this store's count. */
const counted = (q: sql.Query, owner: string): sql.Query => ({
  text:
    `WITH changed AS (${q.text}), ` +
    `acc AS (${ADD_BYTES(sql.POSTGRES.param(q.values.length + 1), "changed")}) ` +
    "SELECT COUNT(*)::int AS n FROM changed",
  values: [...q.values, owner],
});

/** How long a measured size is trusted before the next check reads it again (other sidecars write too). */
const SIZE_TTL_MS = 1000;

/** Any number that the sidecars sharing one database agree on, so only one creates the tables. */
const SCHEMA_LOCK = 7_355_608;

/** The URL as shown in messages and /ready: without the password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/**
 * Opens (and creates if needed) the decision log in PostgreSQL. A `schema` query parameter
 * (postgres://host/db?schema=name) puts the tables in that schema, created if missing: one database
 * can hold several logs (tests use a schema per run).
 */
/** SQLite's own options (busyTimeoutMs, sync, mustExist) are accepted and ignored. */
export async function openPostgresStore(url: string, opts: StoreOptions = {}): Promise<DecisionStore> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(
      `decision log ${url}: not a valid PostgreSQL URL (expected postgres://user@host:port/db)`,
    );
  }
  const schema = u.searchParams.get("schema");
  u.searchParams.delete("schema");
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreError(`decision log ${redact(url)}: schema "${schema}" must be a lower-case identifier`);
  }
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: 4,
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(sql.tableDefinitions(sql.POSTGRES));
      await client.query(SIZE_BASELINE);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StoreError(`decision log ${redact(url)}: cannot open: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new PostgresStore(pool, redact(url), opts);
}

class PostgresStore extends SqlStore {
  /** This store's row of log_bytes. */
  private readonly owner = `store:${randomUUID()}`;
  /** The last size read, when, and what this store wrote since. */
  private measured = { bytes: 0, at: Number.NEGATIVE_INFINITY, since: 0 };

  constructor(
    private readonly pool: pg.Pool,
    location: string,
    opts: StoreOptions,
  ) {
    super(sql.POSTGRES, location, opts);
  }

  protected async all<T>(q: sql.Query): Promise<T[]> {
    return (await this.pool.query(q.text, q.values)).rows as T[];
  }

  protected async writeRows(rows: DecisionRow[]): Promise<void> {
    // Refused whole when it does not fit; the committer retries each record alone.
    const bytes = rows.reduce((n, r) => n + rowBytes(r), 0);
    await this.ensureRoom(bytes);
    // One statement is one transaction: the records and their bytes in the counter commit (and are
    // fsynced) together, or not at all. A decision id already stored inserts nothing and counts nothing.
    const insert = sql.insertDecisions(sql.POSTGRES, rows.map(rowValues), `${DECISION_BYTES_SQL} AS n`);
    await this.all(counted(insert, this.owner));
    this.measured.since += bytes;
  }

  protected async writeCandidate(c: CandidateDecision, output: string): Promise<void> {
    await this.ensureRoom(Buffer.byteLength(output) + CANDIDATE_OVERHEAD_BYTES);
    // A replaced candidate decision is counted again: the count errs on the large side.
    await this.all(
      counted(sql.upsertCandidate(sql.POSTGRES, c, output, `${CANDIDATE_BYTES_SQL} AS n`), this.owner),
    );
  }

  protected async deleteChunk(table: sql.PrunedTable, before: string): Promise<number> {
    const bytesSql = table === "decisions" ? DECISION_BYTES_SQL : CANDIDATE_BYTES_SQL;
    const [row] = await this.all<{ n: number }>(
      counted(sql.pruneChunk(sql.POSTGRES, table, before, `-(${bytesSql}) AS n`), this.owner),
    );
    // The next size check reads the count again.
    this.measured.at = Number.NEGATIVE_INFINITY;
    return row?.n ?? 0;
  }

  private async readSize(): Promise<number> {
    const r = await this.pool.query<{ bytes: string | null }>("SELECT SUM(bytes) AS bytes FROM log_bytes");
    const bytes = Number(r.rows[0]?.bytes ?? 0);
    this.measured = { bytes, at: performance.now(), since: 0 };
    return bytes;
  }

  /**
   * Throws LogFullError when `bytes` more would take the log past its limit. The size read is reused for
   * a second (plus what this store wrote since); close to the limit it is read again before refusing.
   */
  private async ensureRoom(bytes: number): Promise<void> {
    if (this.maxBytes === null) return;
    const fresh = performance.now() - this.measured.at < SIZE_TTL_MS;
    let used = fresh ? this.measured.bytes + this.measured.since : await this.readSize();
    if (used + bytes > this.maxBytes && fresh) used = await this.readSize();
    if (used + bytes > this.maxBytes) throw new LogFullError(used, this.maxBytes);
  }

  async size(): Promise<LogSize> {
    return { bytes: await this.readSize(), limit: this.maxBytes };
  }

  async appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined> {
    const client = await this.pool.connect();
    const run = async <T extends pg.QueryResultRow>(q: sql.Query) =>
      (await client.query<T>(q.text, q.values)).rows;
    try {
      await client.query("BEGIN");
      // One lock per tier: sidecars changing the same tier take turns; different tiers do not wait.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('policy_advisor_rollout:' || $1))", [
        event.tier,
      ]);
      const [latest] = await run<{ id: string | null }>(sql.latestRolloutEventId(sql.POSTGRES, event.tier));
      if ((latest?.id == null ? null : Number(latest.id)) !== expectedLatestId) {
        await client.query("ROLLBACK");
        return undefined;
      }
      const [row] = await run<{ id: string }>(sql.insertRolloutEvent(sql.POSTGRES, event));
      await client.query("COMMIT");
      return { ...event, id: Number(row?.id) };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  protected async closeConnections(): Promise<void> {
    await this.pool.end();
  }
}
