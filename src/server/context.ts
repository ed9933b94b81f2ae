import type { ModeResolver } from "../advisor/modes.js";
import type { DecisionCache } from "../advisor/patterns/cache.js";
import type { AdvisoryQueue } from "../advisor/patterns/queue.js";
import type { DecisionPipeline } from "../advisor/pipeline.js";
import type { Advisor } from "../advisor/types.js";
import type { LlmBackend } from "../llm/types.js";
import type { JobStore } from "../queue/jobs.js";
import type { SharedQueue } from "../queue/shared-queue.js";
import type { DecisionStore } from "../store/types.js";
import type { JobTable, ServerJobSubmission } from "./jobs.js";
import type { ServerMetrics } from "./metrics.js";

/** What the routes share: built once per app by buildApp. */
export interface ServerContext {
  service: DecisionPipeline;
  store: DecisionStore;
  queue: AdvisoryQueue;
  cache: DecisionCache | null;
  /** The in-process job table (the embedded store's; empty when jobs go to the shared queue). */
  jobs: JobTable;
  /** Where POST /v1/jobs puts a job and GET /v1/jobs/:id reads it: in-process, or the shared queue. */
  jobStore: JobStore<ServerJobSubmission>;
  /** The shared queue (serve --queue), or null. */
  sharedQueue: SharedQueue | null;
  metrics: ServerMetrics;
  modes: ModeResolver;
  llm: LlmBackend | null;
  /** State of the circuit breaker in front of the model, when there is one. */
  circuit: (() => "closed" | "open" | "half_open") | null;
  batchMax: number;
  /** How long a finished async job stays readable (--job-ttl), in ms: also the longest job deadline. */
  jobTtlMs: number;
  /** Bearer tokens are required (any token configured). */
  authEnabled: boolean;
  /** Aborted when shutdown begins: running advisories stop and fail closed. */
  shutdown: AbortController;
  closing: boolean;
  /** Rebuilds the advisor from its sources (policy file, prompt, model); absent when not reloadable. */
  reload?: () => Promise<Advisor>;
}
