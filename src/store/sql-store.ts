import type { Tier } from "../schemas/decision.js";
import type {
  CandidateDecision,
  CandidateQuery,
  DecisionFacts,
  DecisionQuery,
  DecisionRecord,
  Review,
} from "../schemas/records.js";
import type { RolloutEvent, VersionEvent } from "../schemas/rollout.js";
import { LogFullError, StoreError } from "./errors.js";
import { GroupCommitter } from "./group-commit.js";
import { Masker } from "./mask.js";
import {
  type CandidateRow,
  candidateFromRow,
  type DecisionRow,
  eventFromRow,
  type FactRow,
  factsFromRow,
  fromRow,
  type RolloutEventRow,
  toRow,
  type VersionEventRow,
  versionEventFromRow,
} from "./rows.js";
import * as sql from "./sql.js";
import type {
  CommitStats,
  DecisionStore,
  LogSize,
  PruneResult,
  StoreDialect,
  StoreOptions,
} from "./types.js";

/**
 * What both dialects do the same way, over the queries of sql.ts: a dialect's class runs statements
 * (`all`) and supplies only what its database does differently (committing a batch, counting the log's
 * size, the compare-and-set's lock, pruning a chunk, closing).
 */
export abstract class SqlStore implements DecisionStore {
  protected readonly masker: Masker;
  protected readonly maxBytes: number | null;
  private readonly committer: GroupCommitter<DecisionRecord>;
  protected closed = false;

  constructor(
    protected readonly sqlDialect: sql.Dialect,
    readonly location: string,
    opts: StoreOptions,
  ) {
    this.masker = new Masker(opts.mask ?? []);
    this.maxBytes = opts.maxBytes ?? null;
    this.committer = new GroupCommitter<DecisionRecord>(
      { writeBatch: (records) => this.writeRecords(records) },
      opts.maxBatch ?? 500,
    );
  }

  get dialect(): StoreDialect {
    return this.sqlDialect.name;
  }

  /** @deprecated see DecisionStore.kind */
  get kind(): StoreDialect {
    return this.dialect;
  }

  get commitStats(): CommitStats {
    return this.committer.stats;
  }

  /** The rows a statement returns (none for one without RETURNING). */
  protected abstract all<T>(q: sql.Query): Promise<T[]>;
  /**
   * Commits the rows in one transaction, skipping decision ids already stored; throws LogFullError,
   * writing nothing, when they do not fit.
   */
  protected abstract writeRows(rows: DecisionRow[]): Promise<void>;
  /** Stores a candidate decision (`output` its scrubbed JSON); LogFullError when it does not fit. */
  protected abstract writeCandidate(c: CandidateDecision, output: string): Promise<void>;
  /** Deletes one chunk (sql.pruneChunk) of the rows created before `before`; returns how many. */
  protected abstract deleteChunk(table: sql.PrunedTable, before: string): Promise<number>;
  protected abstract closeConnections(): Promise<void>;
  abstract appendRolloutEventIf(
    event: RolloutEvent,
    expectedLatestId: number | null,
  ): Promise<RolloutEvent | undefined>;
  abstract size(): Promise<LogSize>;

  private async writeRecords(records: DecisionRecord[]): Promise<void> {
    // Masking and serialisation before the transaction: a bad record fails alone, not its batch (the
    // committer retries a failed batch record by record). A batch that does not fit is refused whole, and
    // then each record that still fits is written alone.
    const rows = records.map((r) => toRow(this.masker.record(r)));
    try {
      await this.writeRows(rows);
    } catch (err) {
      // Appending a decision the log already holds writes nothing, so it needs no room: a retry of a
      // committed append resolves even when the log is full.
      const only = rows.length === 1 ? rows[0] : undefined;
      if (err instanceof LogFullError && only && (await this.get(only.decision_id))) return;
      throw err;
    }
  }

  protected ensureOpen(): void {
    if (this.closed) throw new StoreError("decision log is closed");
  }

  append(record: DecisionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError("decision log is closed"));
    return this.committer.add(record);
  }

  async get(decisionId: string): Promise<DecisionRecord | undefined> {
    const [row] = await this.all<DecisionRow>(sql.decisionById(this.sqlDialect, decisionId));
    return row ? fromRow(row) : undefined;
  }

  async query(q: DecisionQuery): Promise<DecisionRecord[]> {
    return (await this.all<DecisionRow>(sql.selectDecisions(this.sqlDialect, q, "*"))).map(fromRow);
  }

  async facts(q: DecisionQuery): Promise<DecisionFacts[]> {
    return (await this.all<FactRow>(sql.selectDecisions(this.sqlDialect, q, "facts"))).map(factsFromRow);
  }

  async count(q: DecisionQuery): Promise<number> {
    const [row] = await this.all<{ n: number | string }>(sql.countDecisions(this.sqlDialect, q));
    return Number(row?.n ?? 0);
  }

  async review(decisionId: string, review: Review): Promise<DecisionRecord | undefined> {
    const [row] = await this.all<DecisionRow>(sql.reviewDecision(this.sqlDialect, decisionId, review));
    return row ? fromRow(row) : undefined;
  }

  async appendRolloutEvent(event: RolloutEvent): Promise<RolloutEvent> {
    const [row] = await this.all<{ id: number | string }>(sql.insertRolloutEvent(this.sqlDialect, event));
    return { ...event, id: Number(row?.id) };
  }

  async rolloutEvents(tier?: Tier): Promise<RolloutEvent[]> {
    return (await this.all<RolloutEventRow>(sql.selectRolloutEvents(this.sqlDialect, tier))).map(
      eventFromRow,
    );
  }

  async appendVersionEvent(event: VersionEvent): Promise<VersionEvent> {
    const [row] = await this.all<{ id: number | string }>(sql.insertVersionEvent(this.sqlDialect, event));
    return { ...event, id: Number(row?.id) };
  }

  async versionEvents(): Promise<VersionEvent[]> {
    return (await this.all<VersionEventRow>(sql.selectVersionEvents(this.sqlDialect))).map(
      versionEventFromRow,
    );
  }

  async appendCandidate(c: CandidateDecision, request?: unknown): Promise<void> {
    const output = JSON.stringify(this.masker.scrubDecision(c.decision, this.masker.secretsOf(request)));
    await this.writeCandidate(c, output);
  }

  async candidates(q: CandidateQuery): Promise<CandidateDecision[]> {
    return (await this.all<CandidateRow>(sql.selectCandidates(this.sqlDialect, q))).map(candidateFromRow);
  }

  async prune(before: string): Promise<PruneResult> {
    this.ensureOpen();
    const run = async (table: sql.PrunedTable): Promise<number> => {
      let total = 0;
      for (;;) {
        const n = await this.deleteChunk(table, before);
        total += n;
        if (n < this.sqlDialect.pruneChunk) return total;
        // Let requests in between chunks: a large first prune must not stall the service.
        await new Promise((r) => setImmediate(r));
      }
    };
    const decisions = await run("decisions");
    const candidates = await run("candidate_decisions");
    return { decisions, candidates };
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    await this.all(sql.probe(this.sqlDialect));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.committer.drain();
    await this.closeConnections();
  }
}
