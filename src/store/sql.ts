import { readFileSync } from "node:fs";
import type { Tier } from "../schemas/decision.js";
import type { CandidateDecision, CandidateQuery, DecisionQuery, Review } from "../schemas/records.js";
import type { RolloutEvent, VersionEvent } from "../schemas/rollout.js";
import { DECISION_COLUMNS, FACT_COLUMNS, normalizeTime } from "./rows.js";
import type { StoreDialect } from "./types.js";

/**
 * Every query of the decision log, written once. What differs between SQLite and PostgreSQL is a
 * parameter of the dialect, never a second copy of a query; the table definitions are in sql/<dialect>.sql.
 * Every time a query writes or compares goes through normalizeTime here, so both dialects store and
 * compare the same UTC strings and refuse the same bad times.
 */
export interface Dialect {
  readonly name: StoreDialect;
  /** The n-th (1-based) parameter: `?` or `$n`. */
  param(n: number): string;
  /** Case-insensitive LIKE (SQLite's LIKE already ignores ASCII case). */
  readonly ilike: "LIKE" | "ILIKE";
  /** The LIMIT parameter that means none (SQLite refuses NULL; PostgreSQL refuses a negative one). */
  readonly noLimit: -1 | null;
  /** What identifies a row for a chunked DELETE: SQLite's rowid is its fastest key. */
  rowKey(table: PrunedTable): string;
  /** Rows deleted per statement when pruning: a few milliseconds each, so the service keeps answering. */
  readonly pruneChunk: number;
}

export type PrunedTable = "decisions" | "candidate_decisions";

const PRIMARY_KEY: Record<PrunedTable, string> = {
  decisions: "decision_id",
  candidate_decisions: "decision_id, candidate",
};

export const SQLITE: Dialect = {
  name: "sqlite",
  param: () => "?",
  ilike: "LIKE",
  noLimit: -1,
  rowKey: () => "rowid",
  pruneChunk: 2000,
};

export const POSTGRES: Dialect = {
  name: "postgres",
  param: (n) => `$${n}`,
  ilike: "ILIKE",
  noLimit: null,
  rowKey: (table) => PRIMARY_KEY[table],
  pruneChunk: 5000,
};

/** The table definitions of a dialect (src/store/sql/, copied next to the compiled store by the build). */
export function tableDefinitions(dialect: Dialect): string {
  return readFileSync(new URL(`./sql/${dialect.name}.sql`, import.meta.url), "utf8");
}

export type SqlValue = string | number | null;

/** A statement and its parameters, in placeholder order. */
export interface Query {
  text: string;
  values: SqlValue[];
}

/** Collects parameters while a statement is written: `p(value)` is the placeholder for the next one. */
function builder(dialect: Dialect): { p: (value: SqlValue) => string; values: SqlValue[] } {
  const values: SqlValue[] = [];
  return {
    values,
    p: (value) => {
      values.push(value);
      return dialect.param(values.length);
    },
  };
}

/** A statement with one placeholder per value, in order. */
function statement(dialect: Dialect, write: (p: (v: SqlValue) => string) => string): Query {
  const b = builder(dialect);
  const text = write(b.p);
  return { text, values: b.values };
}

const DECISION_INSERT_COLUMNS = DECISION_COLUMNS.join(", ");

/**
 * Inserts `rows` decisions (their column values, flattened, as `values`). A decision id already in the
 * log is skipped, not an error: append is idempotent by decision id, the first record kept.
 * `returning`: an expression per inserted row (PostgreSQL counts their bytes with it).
 */
export function insertDecisions(dialect: Dialect, values: SqlValue[][], returning?: string): Query {
  return statement(dialect, (p) => {
    const tuples = values.map((row) => `(${row.map((v) => p(v)).join(", ")})`);
    return (
      `INSERT INTO decisions (${DECISION_INSERT_COLUMNS}) VALUES ${tuples.join(", ")} ` +
      `ON CONFLICT (decision_id) DO NOTHING${returning ? ` RETURNING ${returning}` : ""}`
    );
  });
}

/** The one-row insert, with placeholders for one row's values (SQLite's prepared statement). */
export function insertDecisionStatement(dialect: Dialect): string {
  return insertDecisions(dialect, [DECISION_COLUMNS.map(() => null)]).text;
}

export function decisionById(dialect: Dialect, decisionId: string): Query {
  return statement(dialect, (p) => `SELECT * FROM decisions WHERE decision_id = ${p(decisionId)}`);
}

/** WHERE clause of a decision query, its placeholders written through `p`. */
function decisionWhere(dialect: Dialect, q: DecisionQuery, p: (v: SqlValue) => string): string {
  const parts: string[] = [];
  if (q.since) parts.push(`created_at >= ${p(normalizeTime(q.since, "since"))}`);
  if (q.until) parts.push(`created_at < ${p(normalizeTime(q.until, "until"))}`);
  if (q.tier) parts.push(`tier = ${p(q.tier)}`);
  if (q.mode) parts.push(`mode = ${p(q.mode)}`);
  if (q.decision) parts.push(`decision = ${p(q.decision)}`);
  if (q.actor) parts.push(`actor = ${p(q.actor)}`);
  if (q.action) parts.push(`action = ${p(q.action)}`);
  if (q.mismatchesOnly) parts.push("mismatch = 1");
  if (q.reviewed === true) parts.push("review IS NOT NULL");
  if (q.reviewed === false) parts.push("review IS NULL");
  if (q.q) {
    // The search text is matched literally: LIKE's wildcards and its escape character are escaped.
    const pattern = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const like = dialect.ilike;
    parts.push(`(input ${like} ${p(pattern)} ESCAPE '\\' OR output ${like} ${p(pattern)} ESCAPE '\\')`);
  }
  return parts.length ? `WHERE ${parts.join(" AND ")}` : "";
}

/** Whole records (`columns` "*") or their facts, in creation order, paged. */
export function selectDecisions(dialect: Dialect, q: DecisionQuery, columns: "*" | "facts"): Query {
  return statement(dialect, (p) => {
    const where = decisionWhere(dialect, q, p);
    const order = q.order === "asc" ? "ASC" : "DESC";
    const cols = columns === "*" ? "*" : FACT_COLUMNS;
    return (
      `SELECT ${cols} FROM decisions ${where} ORDER BY created_at ${order}, decision_id ${order} ` +
      `LIMIT ${p(q.limit ?? dialect.noLimit)} OFFSET ${p(q.offset ?? 0)}`
    );
  });
}

export function countDecisions(dialect: Dialect, q: DecisionQuery): Query {
  return statement(dialect, (p) => `SELECT COUNT(*) AS n FROM decisions ${decisionWhere(dialect, q, p)}`);
}

/** Records a review; returns the updated record (no row: no such decision). */
export function reviewDecision(dialect: Dialect, decisionId: string, review: Review): Query {
  return statement(
    dialect,
    (p) =>
      `UPDATE decisions SET review = ${p(JSON.stringify(review))}, ` +
      `reviewed_at = ${p(normalizeTime(review.reviewedAt, "reviewedAt"))}, ` +
      `final_decision = ${p(review.finalDecision)} WHERE decision_id = ${p(decisionId)} RETURNING *`,
  );
}

/** Appends a rollout event; returns its id. */
export function insertRolloutEvent(dialect: Dialect, e: RolloutEvent): Query {
  return statement(
    dialect,
    (p) =>
      "INSERT INTO rollout_events (at, tier, kind, from_mode, to_mode, by_whom, reason, trigger_name) " +
      `VALUES (${[e.at, e.tier, e.kind, e.from, e.to, e.by, e.reason, e.trigger ?? null].map(p).join(", ")}) ` +
      "RETURNING id",
  );
}

/** The id of a tier's latest rollout event (null: none). */
export function latestRolloutEventId(dialect: Dialect, tier: Tier): Query {
  return statement(dialect, (p) => `SELECT MAX(id) AS id FROM rollout_events WHERE tier = ${p(tier)}`);
}

export function selectRolloutEvents(dialect: Dialect, tier?: Tier): Query {
  return statement(
    dialect,
    (p) => `SELECT * FROM rollout_events ${tier ? `WHERE tier = ${p(tier)} ` : ""}ORDER BY id`,
  );
}

/** Appends a version event; returns its id. */
export function insertVersionEvent(dialect: Dialect, e: VersionEvent): Query {
  const from = e.from ? JSON.stringify(e.from) : null;
  return statement(
    dialect,
    (p) =>
      "INSERT INTO version_events (at, kind, from_version, to_version, by_whom, reason) " +
      `VALUES (${[e.at, e.kind, from, JSON.stringify(e.to), e.by, e.reason].map(p).join(", ")}) RETURNING id`,
  );
}

export const selectVersionEvents = (dialect: Dialect): Query =>
  statement(dialect, () => "SELECT * FROM version_events ORDER BY id");

/**
 * Stores a candidate decision (`output`: its decision JSON, already scrubbed), replacing the candidate's
 * earlier decision on the same request. `returning` as for insertDecisions.
 */
export function upsertCandidate(
  dialect: Dialect,
  c: CandidateDecision,
  output: string,
  returning?: string,
): Query {
  return statement(
    dialect,
    (p) =>
      "INSERT INTO candidate_decisions (decision_id, candidate, created_at, output) " +
      `VALUES (${p(c.decisionId)}, ${p(c.candidate)}, ${p(normalizeTime(c.createdAt, "createdAt"))}, ${p(output)}) ` +
      "ON CONFLICT (decision_id, candidate) DO UPDATE SET created_at = excluded.created_at, output = excluded.output" +
      (returning ? ` RETURNING ${returning}` : ""),
  );
}

export function selectCandidates(dialect: Dialect, q: CandidateQuery): Query {
  return statement(dialect, (p) => {
    const parts: string[] = [];
    if (q.since) parts.push(`created_at >= ${p(normalizeTime(q.since, "since"))}`);
    if (q.until) parts.push(`created_at < ${p(normalizeTime(q.until, "until"))}`);
    if (q.candidate) parts.push(`candidate = ${p(q.candidate)}`);
    const where = parts.length ? `WHERE ${parts.join(" AND ")} ` : "";
    return `SELECT * FROM candidate_decisions ${where}ORDER BY created_at`;
  });
}

/**
 * Deletes up to a chunk of `table`'s rows created before `before`. `returning` as for insertDecisions
 * (an expression per deleted row).
 */
export function pruneChunk(dialect: Dialect, table: PrunedTable, before: string, returning?: string): Query {
  return statement(dialect, (p) => {
    const key = dialect.rowKey(table);
    return (
      `DELETE FROM ${table} WHERE (${key}) IN ` +
      `(SELECT ${key} FROM ${table} WHERE created_at < ${p(normalizeTime(before, "before"))} LIMIT ${dialect.pruneChunk})` +
      (returning ? ` RETURNING ${returning}` : "")
    );
  });
}

/** The readiness probe: a write and a read of one row, in one statement. */
export const probe = (dialect: Dialect): Query =>
  statement(
    dialect,
    (p) =>
      `INSERT INTO probe (id, at) VALUES (1, ${p(new Date().toISOString())}) ` +
      "ON CONFLICT (id) DO UPDATE SET at = excluded.at RETURNING at",
  );
