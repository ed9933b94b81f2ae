import type { DecisionRecord } from "../schemas/records.js";
import type { DecisionStore } from "./types.js";

/**
 * Appends the record unless the log holds its decision id already: idempotent by decision id, for work
 * that may run twice (a queued job retried after its worker died, or two workers racing for one job). The
 * stores' append is itself idempotent (an id already logged is a no-op that resolves); this also covers a
 * store that refuses the duplicate instead. Resolves false when a refused append finds the record there
 * (true does not prove this call wrote it: read the record back for that); throws when the log can neither
 * take it nor show it.
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
