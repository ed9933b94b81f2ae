import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The service's Prometheus metrics, on a registry of its own so that several apps can live in one process. */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: "policy_advisor_http_request_duration_seconds",
    help: "HTTP request latency by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly decisionDuration = new Histogram({
    name: "policy_advisor_decision_duration_seconds",
    help: "Time to decide, by decision source (engine, llm, cache, fallback)",
    labelNames: ["source"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: "policy_advisor_decisions_total",
    help: "Decisions by outcome, risk level, tier, source and mode",
    labelNames: ["decision", "risk", "tier", "source", "mode"] as const,
    registers: [this.registry],
  });
  readonly llmTokens = new Counter({
    name: "policy_advisor_llm_tokens_total",
    help: "LLM tokens: evaluated prompt, reused prefix, generated",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly llmDuration = new Histogram({
    name: "policy_advisor_llm_duration_seconds",
    help: "Time the policy interpreter took per advisory",
    labelNames: ["outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly cacheHits = new Counter({
    name: "policy_advisor_cache_hits_total",
    help: "Decisions answered from the cache",
    registers: [this.registry],
  });
  readonly cacheMisses = new Counter({
    name: "policy_advisor_cache_misses_total",
    help: "Cache lookups that found nothing",
    registers: [this.registry],
  });
  readonly cacheInvalidations = new Counter({
    name: "policy_advisor_cache_invalidations_total",
    help: "Times the cache was emptied because the policy, prompt or model version changed",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "policy_advisor_queue_depth",
    help: "Advisories waiting for a slot",
    registers: [this.registry],
  });
  readonly queueRunning = new Gauge({
    name: "policy_advisor_queue_running",
    help: "Advisories running",
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: "policy_advisor_queue_wait_seconds",
    help: "Time an advisory waited in the queue before it ran",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "policy_advisor_errors_total",
    help: "Errors by cause (invalid_request, unauthorized, queue_full, deadline, store, internal, ...)",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });
  readonly modelLoad = new Gauge({
    name: "policy_advisor_model_load_seconds",
    help: "Time it took to load the model at start (0 without a model)",
    registers: [this.registry],
  });
  readonly jobs = new Gauge({
    name: "policy_advisor_jobs",
    help: "Async jobs held, by status",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });

  readonly connectionsOpen = new Gauge({
    name: "policy_advisor_connections_open",
    help: "HTTP connections open now",
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: "policy_advisor_connections_refused_total",
    help: "Connections closed at once because a cap was reached (reason: total, per_client)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly logPruned = new Counter({
    name: "policy_advisor_log_pruned_total",
    help: "Decisions pruned from the decision log because they were older than --retain",
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "policy_advisor_" });
  }
}
