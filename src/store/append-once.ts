import type { DecisionRecord, DecisionStore } from "./types.js";

/**
 * Appends the record unless the log holds its decision id already: idempotent by decision id, for work
 * that may run twice (a queued job retried after its worker died). The primary key decides between two
 * that race: the second append fails on it and finds the first's record. Resolves true when this call
 * wrote the record, false when it was there; throws when the log cannot tell or take it.
 */
export async function appendOnce(store: DecisionStore, record: DecisionRecord): Promise<boolean> {
  if (await store.get(record.decisionId)) return false;
  try {
    await store.append(record);
    return true;
  } catch (err) {
    if (await store.get(record.decisionId).catch(() => undefined)) return false;
    throw err;
  }
}
