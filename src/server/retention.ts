import type { FastifyBaseLogger } from "fastify";
import type { DecisionLog } from "../store/types.js";
import type { ServerMetrics } from "./metrics.js";

export interface Retention {
  /** Prunes now: everything older than the retention. */
  pruneNow(): Promise<void>;
  stop(): void;
}

/** How often to prune: a tenth of the retention, between a second and an hour. */
export const pruneIntervalMs = (retainMs: number): number =>
  Math.min(3_600_000, Math.max(1000, retainMs / 10));

/**
 * Age-based retention (--retain): decisions older than `retainMs` are pruned at start and then
 * periodically, each pruning logged with what it removed. Age is the only reason a record ever leaves the
 * log: a full log refuses new decisions instead (LogFullError), it never makes room by dropping any.
 */
export function startRetention(deps: {
  store: Pick<DecisionLog, "prune">;
  retainMs: number;
  log: FastifyBaseLogger;
  metrics: ServerMetrics;
}): Retention {
  const { store, retainMs, log, metrics } = deps;
  let running: Promise<void> | null = null;
  let stopped = false;
  const pruneNow = (quietWhenNone = false): Promise<void> => {
    running ??= (async () => {
      const started = performance.now();
      const before = new Date(Date.now() - retainMs).toISOString();
      try {
        const r = await store.prune(before);
        metrics.logPruned.inc(r.decisions);
        if (!quietWhenNone || r.decisions + r.candidates > 0) {
          log.info(
            {
              pruned: r.decisions,
              prunedCandidates: r.candidates,
              olderThan: before,
              retainMs,
              ms: Math.round(performance.now() - started),
            },
            "decision log pruned",
          );
        }
      } catch (err) {
        // A log that cannot be pruned now is pruned next time; deciding goes on meanwhile.
        if (!stopped) log.error({ err: (err as Error).message }, "decision log pruning failed");
      }
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void pruneNow(true), pruneIntervalMs(retainMs));
  timer.unref();
  return {
    pruneNow: () => pruneNow(false),
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
