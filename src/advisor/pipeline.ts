import type { Context } from "@opentelemetry/api";
import { createEngine } from "../engine/index.js";
import type { EngineVerdict, PolicyEngine } from "../engine/types.js";
import type { DecisionValue, Mode } from "../schemas/common.js";
import type { Decision } from "../schemas/decision.js";
import { CodedError, hasErrorCode } from "../schemas/error-codes.js";
import { InvalidRequestError } from "../schemas/errors.js";
import type { DecisionRecord } from "../schemas/records.js";
import type { ParsedRequest } from "../schemas/request.js";
import { emitLog, endSpan, inSpan, startSpan, type Telemetry } from "../telemetry/index.js";
import { verdictToDecision } from "./create.js";
import { newDecisionId } from "./decision-id.js";
import { routesToLlm } from "./hybrid.js";
import { capMode, effectiveDecision, type ModeResolver } from "./modes.js";
import { cacheKey, type DecisionCache } from "./patterns/cache.js";
import { DeadlineExceededError, withDeadline } from "./patterns/deadline.js";
import { type FallbackCause, fallbackDecision } from "./patterns/fallback.js";
import { type AdvisoryQueue, QueueClosedError, QueueFullError } from "./patterns/queue.js";
import type { PipelineLogger, PipelineMetrics } from "./ports.js";
import type { Advisor } from "./types.js";

/** A decision log that cannot commit within this long is treated as down (503), not waited on forever. */
const APPEND_TIMEOUT_MS = 15_000;

/**
 * Where decisions are recorded. append() resolves only once the record is durable: the pipeline answers
 * only after that. A store of src/store fits; so does anything else with this shape.
 */
export interface DecisionLogWriter {
  append(record: DecisionRecord): Promise<void>;
  /** A short name for traces ("sqlite", "postgres"). */
  readonly dialect: string;
}

/** The log append under the one deadline helper: past it the append counts as failed, never hangs. */
const appendWithin = (log: DecisionLogWriter, record: DecisionRecord, ms: number): Promise<void> =>
  withDeadline(ms, () => log.append(record));

/** The decision could not be acknowledged: the log refused it (full) or could not take it (down). */
export class PipelineError extends CodedError<"log_full" | "store_unavailable"> {
  /** A full log frees room only when older decisions are pruned: come back in a minute. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: "log_full" | "store_unavailable", message: string) {
    super(code, message);
    this.name = "PipelineError";
    this.retryAfterSeconds = code === "log_full" ? 60 : undefined;
  }
}

/** What /v1/advisory answers: the decision JSON plus the mode and the decision the caller applies. */
export type AdvisoryAnswer = Decision & {
  mode: Mode;
  effectiveDecision: DecisionValue;
  /** Shadow mode with a control: answered at once with the rules' verdict; the full advice is logged later. */
  deferred?: boolean;
};

export interface AdvisoryInput {
  parsed: ParsedRequest;
  control?: DecisionValue;
}

export interface DecideOptions {
  /** Shadow work: when the queue is full, log the rules' verdict rather than nothing. */
  rulesWhenFull?: boolean;
  /** Per-request deadline; null for none (async jobs). Default: the service's. */
  deadlineMs?: number | null;
  decisionId?: string;
  /** Aborted when the caller goes away or the service shuts down. */
  signal?: AbortSignal;
  log?: PipelineLogger;
  /** The trace context of the request (the route's span): the decision's spans go under it. */
  traceContext?: Context;
}

export interface DecisionPipelineDeps {
  advisor: Advisor;
  store: DecisionLogWriter;
  modes: ModeResolver;
  cache: DecisionCache | null;
  queue: AdvisoryQueue;
  metrics: PipelineMetrics;
  deadlineMs: number;
  log: PipelineLogger;
  /**
   * The decision log's masking: an error message that may quote the request (the request's original
   * input) is passed through this before it is logged.
   */
  scrub?: (message: string, input: unknown) => string;
  /** Called with each record once it is committed (e.g. a candidate version decides it off the critical path). */
  onLogged?: (record: DecisionRecord) => void;
  /** OpenTelemetry: a span per decision and stage, and each logged decision as a log record. */
  telemetry?: Telemetry | null;
}

/** The span attributes of an answer: what was decided, how, and what applies. */
function answerAttributes(a: AdvisoryAnswer): Record<string, string | number | boolean> {
  return {
    "policy_advisor.decision.id": a.decisionId,
    "policy_advisor.decision": a.decision,
    "policy_advisor.effective_decision": a.effectiveDecision,
    "policy_advisor.mode": a.mode,
    "policy_advisor.source": a.source,
    "policy_advisor.risk_level": a.riskLevel,
    "policy_advisor.classification": a.classification,
    ...(a.tier ? { "policy_advisor.tier": a.tier } : {}),
    ...(a.fallbackCause ? { "policy_advisor.fallback_cause": a.fallbackCause } : {}),
    ...(a.deferred ? { "policy_advisor.deferred": true } : {}),
  };
}

/**
 * One decision from request to acknowledged log record: rules verdict (tier, mode), cache, queue with
 * deadline, fail-closed fallback, mode and effective decision, the durable append, metrics and the log line.
 */
export class DecisionPipeline {
  private advisor: Advisor;
  private engine: PolicyEngine;
  /** Shadow-mode work still running after its answer went out; awaited at shutdown. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly deps: DecisionPipelineDeps) {
    this.advisor = deps.advisor;
    this.engine = createEngine(deps.advisor.policy);
  }

  /** An error's message as it may be logged: the request's masked values scrubbed from it. */
  private logged(input: Pick<AdvisoryInput, "parsed">, err: unknown): string {
    const message = typeof err === "string" ? err : ((err as Error).message ?? String(err));
    return this.deps.scrub ? this.deps.scrub(message, input.parsed.original) : message;
  }

  get currentAdvisor(): Advisor {
    return this.advisor;
  }

  /** Swaps in an advisor built from a new policy (or prompt, or model); the cache empties on next use. */
  replaceAdvisor(advisor: Advisor): void {
    this.engine = createEngine(advisor.policy);
    this.advisor = advisor;
  }

  /** The service's per-request deadline (a caller may ask for a shorter one). */
  get deadlineMs(): number {
    return this.deps.deadlineMs;
  }

  get pendingBackground(): number {
    return this.background.size;
  }

  /** Waits for shadow-mode work that is still being decided and logged. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  async decide(input: AdvisoryInput, opts: DecideOptions = {}): Promise<AdvisoryAnswer> {
    const startedAt = performance.now();
    const log = opts.log ?? this.deps.log;
    const decisionId = opts.decisionId ?? newDecisionId();
    const advisor = this.advisor;
    const telemetry = this.deps.telemetry;
    // The decision's span: every stage below is a child of it (nothing at all with telemetry off).
    const root = startSpan(telemetry, "policy_advisor.decision", opts.traceContext, {
      "policy_advisor.decision.id": decisionId,
      "policy_advisor.engine": advisor.engine,
      "policy_advisor.request.shape": input.parsed.shape,
    });
    if (root) opts = { ...opts, traceContext: root.context };
    const finish = (answer: AdvisoryAnswer | undefined, err?: unknown) => {
      if (answer) root?.span.setAttributes(answerAttributes(answer));
      endSpan(root, err);
    };
    const rules = startSpan(telemetry, "policy_advisor.engine.evaluate", opts.traceContext);
    const verdict = this.engine.evaluate(input.parsed.situation);
    rules?.span.setAttributes({
      "policy_advisor.tier": verdict.tier,
      "policy_advisor.rules.decision": verdict.decision,
      "policy_advisor.rules.classification": verdict.classification,
      "policy_advisor.rules.confident": verdict.facts.confident,
    });
    endSpan(rules);
    const mode = capMode(verdict.tier, this.deps.modes.modeFor(verdict.tier));

    if (mode === "shadow" && input.control !== undefined) {
      // The caller applies its own decision: answer now, decide and log the advice off the critical path.
      const quick = verdictToDecision(
        verdict,
        { policy: advisor.versions().policy, prompt: null, model: null },
        startedAt,
        decisionId,
      );
      const answer: AdvisoryAnswer = { ...quick, mode, effectiveDecision: input.control, deferred: true };
      // Outside the sample the advice is not computed at all: the answer is the rules' quick verdict.
      if (this.deps.modes.sampleShadow && !this.deps.modes.sampleShadow()) {
        finish(answer);
        return answer;
      }
      const work = this.complete(
        input,
        verdict,
        mode,
        decisionId,
        startedAt,
        { ...opts, log, rulesWhenFull: true },
        advisor,
      )
        .then((logged) => finish(logged))
        .catch((err: unknown) => {
          finish(answer, err);
          this.deps.metrics.errors.inc({ cause: "shadow" });
          log.error({ decisionId, err: this.logged(input, err) }, "shadow advisory failed");
        })
        .finally(() => this.background.delete(work));
      this.background.add(work);
      return answer;
    }
    try {
      const answer = await this.complete(
        input,
        verdict,
        mode,
        decisionId,
        startedAt,
        { ...opts, log },
        advisor,
      );
      finish(answer);
      return answer;
    } catch (err) {
      finish(undefined, err);
      throw err;
    }
  }

  private async complete(
    input: AdvisoryInput,
    verdict: EngineVerdict,
    mode: Mode,
    decisionId: string,
    startedAt: number,
    opts: DecideOptions & { log: PipelineLogger },
    advisor: Advisor,
  ): Promise<AdvisoryAnswer> {
    const decision = await this.advise(input.parsed, verdict, decisionId, startedAt, opts, advisor);
    const tier = decision.tier ?? verdict.tier;
    const effective = effectiveDecision(mode, decision.decision, input.control, tier);
    const record: DecisionRecord = {
      decisionId,
      createdAt: new Date().toISOString(),
      input: input.parsed.original,
      shape: input.parsed.shape,
      decision,
      mode,
      tier,
      effectiveDecision: effective,
      ...(input.control !== undefined ? { control: input.control } : {}),
    };
    try {
      await inSpan(
        this.deps.telemetry,
        "policy_advisor.decision_log.append",
        opts.traceContext,
        {
          "policy_advisor.store": this.deps.store.dialect,
        },
        () => appendWithin(this.deps.store, record, APPEND_TIMEOUT_MS),
      );
    } catch (err) {
      if (hasErrorCode(err, "log_full")) {
        // Refused, not lost: the caller is told the decision was not recorded (and so not acknowledged).
        this.deps.metrics.errors.inc({ cause: "store_full" });
        const { bytes, limit } = err as { bytes?: number; limit?: number };
        opts.log.error({ decisionId, bytes, limit }, "decision log full: decision refused");
        throw new PipelineError("log_full", `the decision was not recorded: ${err.message}`);
      }
      this.deps.metrics.errors.inc({ cause: "store" });
      opts.log.error({ decisionId, err: this.logged(input, err) }, "decision log append failed");
      throw new PipelineError(
        "store_unavailable",
        `the decision log could not record the decision: ${this.logged(input, err)}`,
      );
    }
    this.deps.onLogged?.(record);
    this.exportRecord(record, opts.traceContext);
    const m = this.deps.metrics;
    m.decisions.inc({
      decision: decision.decision,
      risk: decision.riskLevel,
      tier,
      source: decision.source,
      mode,
    });
    m.decisionDuration.observe({ source: decision.source }, (performance.now() - startedAt) / 1000);
    opts.log.info(
      {
        decisionId,
        decision: decision.decision,
        effectiveDecision: effective,
        source: decision.source,
        tier,
        mode,
        riskLevel: decision.riskLevel,
        latencyMs: Number(decision.latencyMs.toFixed(3)),
        // The cause carries the failure's detail, which may quote the model quoting the request.
        ...(decision.fallbackCause ? { fallbackCause: this.logged(input, decision.fallbackCause) } : {}),
      },
      "decision",
    );
    return { ...decision, mode, effectiveDecision: effective };
  }

  /**
   * The decision-log record as an OTLP log record: what was decided, for whom and how, and the four-step
   * reasoning; not the request itself (the log masks fields of it; the export has none of them).
   */
  private exportRecord(record: DecisionRecord, traceContext: Context | undefined): void {
    const telemetry = this.deps.telemetry;
    if (!telemetry?.logger) return;
    const d = record.decision;
    const situation = record.input as { actor_id?: unknown; actorId?: unknown };
    emitLog(telemetry, {
      body: "decision",
      eventName: "policy_advisor.decision",
      ...(traceContext ? { context: traceContext } : {}),
      attributes: {
        "policy_advisor.decision.id": record.decisionId,
        "policy_advisor.decision": d.decision,
        "policy_advisor.effective_decision": record.effectiveDecision,
        "policy_advisor.mode": record.mode,
        "policy_advisor.tier": record.tier,
        "policy_advisor.source": d.source,
        "policy_advisor.risk_level": d.riskLevel,
        "policy_advisor.classification": d.classification,
        "policy_advisor.latency_ms": d.latencyMs,
        "policy_advisor.versions.policy": d.versions.policy,
        ...(d.versions.prompt ? { "policy_advisor.versions.prompt": d.versions.prompt } : {}),
        ...(d.versions.model ? { "policy_advisor.versions.model": d.versions.model } : {}),
        ...(record.control ? { "policy_advisor.control": record.control } : {}),
        ...(d.fallbackCause ? { "policy_advisor.fallback_cause": d.fallbackCause } : {}),
        ...(typeof situation.actor_id === "string" ? { "policy_advisor.actor_id": situation.actor_id } : {}),
        ...(typeof situation.actorId === "string" ? { "policy_advisor.actor_id": situation.actorId } : {}),
        "policy_advisor.request.shape": record.shape,
        "policy_advisor.created_at": record.createdAt,
        "policy_advisor.reasoning.role_check": d.reasoning.roleCheck,
        "policy_advisor.reasoning.trust_check": d.reasoning.trustCheck,
        "policy_advisor.reasoning.environment": d.reasoning.environment,
        "policy_advisor.reasoning.context": d.reasoning.context,
      },
    });
  }

  /** Cache, then the queue under the deadline; any failure to get advice in time fails closed. */
  private async advise(
    parsed: ParsedRequest,
    verdict: EngineVerdict,
    decisionId: string,
    startedAt: number,
    opts: DecideOptions & { log: PipelineLogger },
    advisor: Advisor,
  ): Promise<Decision> {
    const { cache, metrics, queue } = this.deps;
    const versions = advisor.versions();
    let key: string | undefined;
    if (cache) {
      if (cache.syncVersions(versions)) {
        metrics.cacheInvalidations.inc();
        opts.log.info({ versions }, "versions changed: cache emptied");
      }
      key = cacheKey(parsed.situation, advisor.policy.doc, verdict);
      const hit = cache.lookup(key, decisionId, startedAt);
      if (hit) {
        metrics.cacheHits.inc();
        return hit;
      }
      metrics.cacheMisses.inc();
    }
    if (advisor.engine === "rules" || !routesToLlm(advisor.engine, verdict)) {
      // The rules decide alone (the rules engine, or in hybrid a hard deny or a clean allow): they take
      // microseconds, so no model queue slot or deadline; the verdict computed for the tier is the decision.
      const decision = verdictToDecision(verdict, versions, startedAt, decisionId);
      if (cache && key !== undefined) cache.store(key, decision, verdict);
      return decision;
    }
    const deadlineMs = opts.deadlineMs === undefined ? this.deps.deadlineMs : opts.deadlineMs;
    const fallback = (cause: FallbackCause, detail?: string): Decision => {
      metrics.errors.inc({ cause });
      return fallbackDecision(verdict, {
        decisionId,
        versions,
        cause,
        latencyMs: performance.now() - startedAt,
        ...(detail !== undefined ? { detail } : {}),
      });
    };
    let decision: Decision;
    const telemetry = this.deps.telemetry;
    // The queue wait and the model's work: the wait is the advisor span up to the model span's start.
    const waiting = startSpan(telemetry, "policy_advisor.advisor", opts.traceContext, {
      "policy_advisor.engine": advisor.engine,
      ...(versions.model ? { "policy_advisor.versions.model": versions.model } : {}),
      ...(versions.prompt ? { "policy_advisor.versions.prompt": versions.prompt } : {}),
      ...(deadlineMs ? { "policy_advisor.deadline_ms": deadlineMs } : {}),
    });
    // When the caller stops waiting: a remote interpreter sends it with its job (queue/remote-interpreter.ts).
    const deadlineAt = deadlineMs ? Date.now() + deadlineMs : undefined;
    const modelCall = (s: AbortSignal): Promise<Decision> =>
      inSpan(telemetry, "policy_advisor.model", waiting?.context, {}, async (span) => {
        const d = await advisor.adviseParsed(parsed, {
          signal: s,
          decisionId,
          verdict,
          ...(deadlineAt ? { deadlineAt } : {}),
        });
        span?.span.setAttributes({
          "policy_advisor.source": d.source,
          "policy_advisor.decision": d.decision,
        });
        return d;
      });
    try {
      decision = await withDeadline(
        deadlineMs ?? undefined,
        (signal) => queue.run((s) => modelCall(s), { signal }),
        opts.signal,
      );
      endSpan(waiting);
    } catch (err) {
      endSpan(waiting, err);
      if (err instanceof QueueFullError && opts.rulesWhenFull) {
        metrics.errors.inc({ cause: "shadow_queue_full" });
        return verdictToDecision(
          verdict,
          { policy: versions.policy, prompt: null, model: null },
          startedAt,
          decisionId,
        );
      }
      if (err instanceof QueueFullError || err instanceof InvalidRequestError) throw err;
      if (err instanceof DeadlineExceededError) return fallback("deadline", `${err.deadlineMs} ms`);
      if (err instanceof QueueClosedError) return fallback("queue_closed");
      if (opts.signal?.aborted) return fallback("shutdown");
      opts.log.error({ decisionId, err: this.logged({ parsed }, err) }, "advisor failed");
      return fallback("llm_error", (err as Error).message);
    }
    if (cache && key !== undefined) cache.store(key, decision, verdict);
    return decision;
  }
}
