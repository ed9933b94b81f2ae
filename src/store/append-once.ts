import type { DecisionRecord } from "../schemas/records.js";
import type { DecisionStore } from "./types.js";

/** Whether the logged record is this one (the log masks fields, so compare what masking leaves alone). */
const isThisRecord = (stored: DecisionRecord, record: DecisionRecord): boolean =>
  Date.parse(stored.createdAt) === Date.parse(record.createdAt) &&
  stored.decision.decision === record.decision.decision &&
  stored.decision.latencyMs === record.decision.latencyMs &&
  stored.decision.source === record.decision.source;

/**
 * Appends the record unless the log holds its decision id already: idempotent by decision id, for work
 * that may run twice (a queued job retried after its worker died, or two workers racing for one job). The
 * stores' append is itself idempotent (an id already logged is a no-op that resolves), so whose record the
 * log kept is read back. Resolves true when the log holds this record, false when it holds another one
 * (or already held the id); throws when the log can neither take it nor show it.
 */
export async function appendOnce(store: DecisionStore, record: DecisionRecord): Promise<boolean> {
  if (await store.get(record.decisionId)) return false;
  try {
    await store.append(record);
  } catch (err) {
    // A store that refuses the duplicate instead: the record found there means the work was done.
    if (await store.get(record.decisionId).catch(() => undefined)) return false;
    throw err;
  }
  const stored = await store.get(record.decisionId);
  return stored !== undefined && isThisRecord(stored, record);
}
