import type { DecisionRecord, DecisionStore } from "./types.js";

/**
 * Appends the record unless the log holds its decision id already: idempotent by decision id, for work
 * that may run twice (a queued job retried after its worker died, or two workers racing for one job). The
 * primary key decides: an append of an id already logged fails on it, and the record found there means
 * the work was done. Resolves true when this call wrote the record, false when it was there; throws when
 * the log can neither take it nor show it.
 */
export async function appendOnce(store: DecisionStore, record: DecisionRecord): Promise<boolean> {
  try {
    await store.append(record);
    return true;
  } catch (err) {
    if (await store.get(record.decisionId).catch(() => undefined)) return false;
    throw err;
  }
}
