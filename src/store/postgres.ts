import { randomUUID } from "node:crypto";
import pg from "pg";
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
  ROW_OVERHEAD_BYTES,
  type RolloutEventRow,
  rowBytes,
  rowValues,
  toRow,
  type VersionEventRow,
  versionEventFromRow,
  whereClause,
} from "./rows.js";
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
  latency_ms DOUBLE PRECISION NOT NULL,
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
  id BIGSERIAL PRIMARY KEY,
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
  id BIGSERIAL PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_version TEXT,
  to_version TEXT NOT NULL,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_bytes (owner TEXT PRIMARY KEY, bytes BIGINT NOT NULL);
`;

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

/** How long a measured size is trusted before the next check reads it again (other sidecars write too). */
const SIZE_TTL_MS = 1000;
const PRUNE_CHUNK = 5000;

/** Any number that the sidecars sharing one database agree on, so only one creates the tables. */
const SCHEMA_LOCK = 7_355_608;

const ph = (n: number) => `$${n}`;

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
      await client.query(SCHEMA);
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

class PostgresStore implements DecisionStore {
  readonly kind = "postgres" as const;
  private readonly masker: Masker;
  private readonly committer: GroupCommitter<DecisionRecord>;
  private readonly maxBytes: number | null;
  /** This store's row of log_bytes. */
  private readonly owner = `store:${randomUUID()}`;
  /** The last size read, when, and what this store wrote since. */
  private measured = { bytes: 0, at: Number.NEGATIVE_INFINITY, since: 0 };
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
    opts: StoreOptions,
  ) {
    this.masker = new Masker(opts.mask ?? []);
    this.maxBytes = opts.maxBytes ?? null;
    this.committer = new GroupCommitter<DecisionRecord>(
      {
        writeBatch: async (records) => {
          const decisionRows = records.map((r) => toRow(this.masker.record(r)));
          // Refused whole when it does not fit; the committer retries each record alone (see sqlite.ts).
          const bytes = decisionRows.reduce((n, r) => n + rowBytes(r), 0);
          await this.ensureRoom(bytes);
          const rows = decisionRows.map(rowValues);
          const n = DECISION_COLUMNS.length;
          const values = rows.map(
            (_, i) => `(${DECISION_COLUMNS.map((_c, j) => ph(i * n + j + 1)).join(", ")})`,
          );
          // One statement is one transaction: the records and their bytes in the counter commit (and are
          // fsynced) together, or not at all.
          await this.pool.query(
            `WITH ins AS (INSERT INTO decisions (${DECISION_COLUMNS.join(", ")}) VALUES ${values.join(", ")}
               RETURNING ${DECISION_BYTES_SQL} AS n),
             acc AS (${ADD_BYTES(ph(rows.length * n + 1), "ins")})
             SELECT 1`,
            [...rows.flat(), this.owner],
          );
          this.measured.since += bytes;
        },
      },
      opts.maxBatch ?? 500,
    );
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

  async prune(before: string): Promise<PruneResult> {
    if (this.closed) throw new StoreError("decision log is closed");
    const cutoff = normalizeTime(before, "before");
    const run = async (table: "decisions" | "candidate_decisions", key: string, bytesSql: string) => {
      let total = 0;
      for (;;) {
        const r = await this.pool.query<{ deleted: number }>(
          `WITH del AS (DELETE FROM ${table} WHERE (${key}) IN
               (SELECT ${key} FROM ${table} WHERE created_at < $1 LIMIT ${PRUNE_CHUNK})
             RETURNING -(${bytesSql}) AS n),
           acc AS (${ADD_BYTES("$2", "del")})
           SELECT COUNT(*)::int AS deleted FROM del`,
          [cutoff, this.owner],
        );
        const n = r.rows[0]?.deleted ?? 0;
        total += n;
        if (n < PRUNE_CHUNK) return total;
      }
    };
    const decisions = await run("decisions", "decision_id", DECISION_BYTES_SQL);
    const candidates = await run("candidate_decisions", "decision_id, candidate", CANDIDATE_BYTES_SQL);
    this.measured.at = Number.NEGATIVE_INFINITY;
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
    const r = await this.pool.query<DecisionRow>("SELECT * FROM decisions WHERE decision_id = $1", [
      decisionId,
    ]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  async query(q: DecisionQuery): Promise<DecisionRecord[]> {
    const { sql, params } = whereClause(q, ph, "ILIKE");
    const order = q.order === "asc" ? "ASC" : "DESC";
    const limit = q.limit === undefined ? "" : `LIMIT ${ph(params.length + 1)}`;
    const all = q.limit === undefined ? params : [...params, q.limit];
    const offset = `OFFSET ${ph(all.length + 1)}`;
    const r = await this.pool.query<DecisionRow>(
      `SELECT * FROM decisions ${sql} ORDER BY created_at ${order}, decision_id ${order} ${limit} ${offset}`,
      [...all, q.offset ?? 0],
    );
    return r.rows.map((row) => fromRow({ ...row, latency_ms: Number(row.latency_ms) }));
  }

  async facts(q: DecisionQuery): Promise<DecisionFacts[]> {
    const { sql, params } = whereClause(q, ph, "ILIKE");
    const order = q.order === "asc" ? "ASC" : "DESC";
    const limit = q.limit === undefined ? "" : `LIMIT ${ph(params.length + 1)}`;
    const all = q.limit === undefined ? params : [...params, q.limit];
    const r = await this.pool.query<FactRow>(
      `SELECT ${FACT_COLUMNS} FROM decisions ${sql} ORDER BY created_at ${order}, decision_id ${order} ${limit} OFFSET ${ph(all.length + 1)}`,
      [...all, q.offset ?? 0],
    );
    return r.rows.map(factsFromRow);
  }

  async count(q: DecisionQuery): Promise<number> {
    const { sql, params } = whereClause(q, ph, "ILIKE");
    const r = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM decisions ${sql}`, params);
    return Number(r.rows[0]?.n ?? 0);
  }

  async review(decisionId: string, review: Review): Promise<DecisionRecord | undefined> {
    const r = await this.pool.query(
      "UPDATE decisions SET review = $1, reviewed_at = $2, final_decision = $3 WHERE decision_id = $4",
      [
        JSON.stringify(review),
        normalizeTime(review.reviewedAt, "reviewedAt"),
        review.finalDecision,
        decisionId,
      ],
    );
    return r.rowCount === 0 ? undefined : this.get(decisionId);
  }

  async appendRolloutEvent(event: RolloutEvent): Promise<RolloutEvent> {
    const r = await this.pool.query<{ id: string }>(
      `INSERT INTO rollout_events (at, tier, kind, from_mode, to_mode, by_whom, reason, trigger_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [event.at, event.tier, event.kind, event.from, event.to, event.by, event.reason, event.trigger ?? null],
    );
    return { ...event, id: Number(r.rows[0]?.id) };
  }

  async appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      // One lock per tier: sidecars changing the same tier take turns; different tiers do not wait.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('policy_advisor_rollout:' || $1))", [
        event.tier,
      ]);
      const r = await client.query<{ id: string | null }>(
        "SELECT MAX(id) AS id FROM rollout_events WHERE tier = $1",
        [event.tier],
      );
      const latest = r.rows[0]?.id == null ? null : Number(r.rows[0].id);
      if (latest !== expectedLatestId) {
        await client.query("ROLLBACK");
        return undefined;
      }
      const ins = await client.query<{ id: string }>(
        `INSERT INTO rollout_events (at, tier, kind, from_mode, to_mode, by_whom, reason, trigger_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [
          event.at,
          event.tier,
          event.kind,
          event.from,
          event.to,
          event.by,
          event.reason,
          event.trigger ?? null,
        ],
      );
      await client.query("COMMIT");
      return { ...event, id: Number(ins.rows[0]?.id) };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async rolloutEvents(tier?: string): Promise<RolloutEvent[]> {
    const r = tier
      ? await this.pool.query<RolloutEventRow>("SELECT * FROM rollout_events WHERE tier = $1 ORDER BY id", [
          tier,
        ])
      : await this.pool.query<RolloutEventRow>("SELECT * FROM rollout_events ORDER BY id");
    return r.rows.map(eventFromRow);
  }

  async appendVersionEvent(event: VersionEvent): Promise<VersionEvent> {
    const r = await this.pool.query<{ id: string }>(
      `INSERT INTO version_events (at, kind, from_version, to_version, by_whom, reason)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        event.at,
        event.kind,
        event.from ? JSON.stringify(event.from) : null,
        JSON.stringify(event.to),
        event.by,
        event.reason,
      ],
    );
    return { ...event, id: Number(r.rows[0]?.id) };
  }

  async versionEvents(): Promise<VersionEvent[]> {
    const r = await this.pool.query<VersionEventRow>("SELECT * FROM version_events ORDER BY id");
    return r.rows.map(versionEventFromRow);
  }

  async appendCandidate(c: CandidateDecision, request?: unknown): Promise<void> {
    const output = JSON.stringify(this.masker.scrubDecision(c.decision, this.masker.secretsOf(request)));
    await this.ensureRoom(Buffer.byteLength(output) + CANDIDATE_OVERHEAD_BYTES);
    // A replaced candidate decision is counted again: the count errs on the large side.
    await this.pool.query(
      `WITH ins AS (INSERT INTO candidate_decisions (decision_id, candidate, created_at, output) VALUES ($1, $2, $3, $4)
         ON CONFLICT (decision_id, candidate) DO UPDATE SET created_at = EXCLUDED.created_at, output = EXCLUDED.output
         RETURNING ${CANDIDATE_BYTES_SQL} AS n),
       acc AS (${ADD_BYTES("$5", "ins")})
       SELECT 1`,
      [c.decisionId, c.candidate, normalizeTime(c.createdAt, "createdAt"), output, this.owner],
    );
  }

  async candidates(q: { since?: string; until?: string; candidate?: string }): Promise<CandidateDecision[]> {
    const parts: string[] = [];
    const params: string[] = [];
    const add = (sql: (p: string) => string, value: string) => {
      params.push(value);
      parts.push(sql(ph(params.length)));
    };
    if (q.since) add((p) => `created_at >= ${p}`, normalizeTime(q.since, "since"));
    if (q.until) add((p) => `created_at < ${p}`, normalizeTime(q.until, "until"));
    if (q.candidate) add((p) => `candidate = ${p}`, q.candidate);
    const where = parts.length ? `WHERE ${parts.join(" AND ")}` : "";
    const r = await this.pool.query<{
      decision_id: string;
      candidate: string;
      created_at: string;
      output: string;
    }>(`SELECT * FROM candidate_decisions ${where} ORDER BY created_at`, params);
    return r.rows.map((row) => ({
      decisionId: row.decision_id,
      candidate: row.candidate,
      createdAt: row.created_at,
      decision: JSON.parse(row.output) as CandidateDecision["decision"],
    }));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreError("decision log is closed");
    await this.pool.query(
      "INSERT INTO probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at",
      [new Date().toISOString()],
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.committer.drain();
    await this.pool.end();
  }
}
