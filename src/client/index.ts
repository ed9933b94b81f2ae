import { randomUUID } from "node:crypto";
import type { DecisionValue, Mode } from "../schemas/common.js";
import type { Decision } from "../schemas/decision.js";
import type { R6Request } from "../schemas/r6.js";
import type { Situation } from "../schemas/situation.js";
import { backoffMs, sleep } from "../util/backoff.js";
import { trimEndChar } from "../util/text.js";
import { PolicyAdvisorError } from "./errors.js";

export { PolicyAdvisorError } from "./errors.js";
export type { Decision, DecisionValue, Mode, R6Request, Situation };

/** What POST /v1/advisory answers: the decision JSON plus the mode and the decision to apply. */
export type AdvisoryAnswer = Decision & {
  mode: Mode;
  effectiveDecision: DecisionValue;
  /** Shadow mode with a control: answered at once, the full advice is logged later. */
  deferred?: boolean;
};

/** A request as web4 (situation) or hardbound (R6Request) sends it. */
export type AdvisoryRequest = Situation | R6Request;

export type BatchResult =
  | AdvisoryAnswer
  | { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

export type Job =
  | { jobId: string; status: "pending"; createdAt: string }
  | { jobId: string; status: "done"; createdAt: string; completedAt: string; result: AdvisoryAnswer }
  | {
      jobId: string;
      status: "failed";
      createdAt: string;
      completedAt: string;
      error: { code: string; message: string };
    };

export interface ClientOptions {
  /** e.g. "http://127.0.0.1:8787" */
  baseUrl: string;
  /** Bearer token (caller or reviewer role), when the service has auth on. */
  token?: string;
  /** Per attempt, milliseconds (default 5000). */
  timeoutMs?: number;
  /** Further attempts after 429, 503, a network error or a timeout (default 2). */
  retries?: number;
  /** First backoff, doubled each attempt with jitter (default 100 ms), capped at maxBackoffMs (default 5000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * When the service cannot be reached (after retries): answer this decision instead of throwing,
   * marked source "fallback", fallbackCause "service_unavailable". Leave unset to get the error.
   * "require_attestation" or "deny" keep the caller fail-closed.
   */
  failClosed?: DecisionValue;
  /** fetch to use (default the global one). */
  fetch?: typeof fetch;
}

export interface AdviseOptions {
  /** The caller's current engine's decision (shadow and advisory rollout). */
  control?: DecisionValue;
  /** A shorter deadline for this request (X-Deadline-Ms); past it the service answers its fail-closed fallback. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/**
 * Client of the policy-advisor sidecar. Retries what is worth retrying (429 and 503, honouring
 * Retry-After, network errors, timeouts) with exponential backoff; never retries a 4xx the caller caused.
 */
export class PolicyAdvisorClient {
  private readonly base: string;
  private readonly opts: Required<Omit<ClientOptions, "token" | "failClosed" | "fetch" | "baseUrl">>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.base = trimEndChar(options.baseUrl, "/");
    this.opts = {
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 2,
      backoffMs: options.backoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5000,
    };
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Asks for a decision. With `failClosed` set, an unreachable service answers that decision instead. */
  async advise(request: AdvisoryRequest, opts: AdviseOptions = {}): Promise<AdvisoryAnswer> {
    const body = opts.control ? { request, control: { decision: opts.control } } : request;
    try {
      const headers: Record<string, string> =
        opts.deadlineMs !== undefined ? { "x-deadline-ms": String(Math.ceil(opts.deadlineMs)) } : {};
      return await this.call<AdvisoryAnswer>(
        "POST",
        "/v1/advisory",
        body,
        opts.signal,
        this.opts.retries,
        headers,
      );
    } catch (err) {
      if (this.options.failClosed && err instanceof PolicyAdvisorError && err.unavailable) {
        return failClosedAnswer(this.options.failClosed, err);
      }
      throw err;
    }
  }

  /** Several requests in one call; results in the same order, each a decision or its own error. */
  async adviseBatch(
    requests: Array<AdvisoryRequest | { request: AdvisoryRequest; control?: { decision: DecisionValue } }>,
    signal?: AbortSignal,
  ): Promise<BatchResult[]> {
    const { results } = await this.call<{ results: BatchResult[] }>(
      "POST",
      "/v1/advisory/batch",
      { requests },
      signal,
    );
    return results;
  }

  /** Queues a request (async pattern); poll with getJob or waitForJob. */
  async submitJob(request: AdvisoryRequest, signal?: AbortSignal): Promise<string> {
    const { jobId } = await this.call<{ jobId: string }>("POST", "/v1/jobs", request, signal);
    return jobId;
  }

  async getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    return this.call<Job>("GET", `/v1/jobs/${encodeURIComponent(jobId)}`, undefined, signal);
  }

  /** Polls a job until it is done (its decision) or failed (throws), or `timeoutMs` passes. */
  async waitForJob(
    jobId: string,
    opts: { pollMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<AdvisoryAnswer> {
    const until = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const job = await this.getJob(jobId, opts.signal);
      if (job.status === "done") return job.result;
      if (job.status === "failed") throw new PolicyAdvisorError(job.error.message, 200, job.error.code);
      if (Date.now() > until) throw new PolicyAdvisorError(`job ${jobId} still pending`, 0, "timeout");
      await sleep(opts.pollMs ?? 200, opts.signal);
    }
  }

  async health(): Promise<boolean> {
    try {
      await this.call("GET", "/health", undefined, undefined, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Readiness with its checks; throws PolicyAdvisorError(503) with the reason when not ready. */
  async ready(): Promise<{ ready: boolean; checks: Record<string, unknown> }> {
    return this.call("GET", "/ready", undefined, undefined, 0);
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    retries = this.opts.retries,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    let attempt = 0;
    for (;;) {
      let err: PolicyAdvisorError;
      try {
        return await this.once<T>(method, path, body, signal, extraHeaders);
      } catch (e) {
        if (!(e instanceof PolicyAdvisorError)) throw e;
        err = e;
      }
      if (signal?.aborted) throw err;
      const retryable = err.status === 0 || err.status === 429 || err.status === 503;
      if (!retryable || attempt >= retries) throw err;
      const backoff = backoffMs(attempt, this.opts.backoffMs, this.opts.maxBackoffMs);
      const wait =
        err.retryAfterSeconds !== undefined ? Math.max(backoff, err.retryAfterSeconds * 1000) : backoff;
      attempt++;
      await sleep(Math.min(wait, 60_000), signal);
    }
  }

  private async once<T>(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      const timedOut = timeout.aborted && !signal?.aborted;
      throw new PolicyAdvisorError(
        timedOut
          ? `no answer from ${this.base} within ${this.opts.timeoutMs} ms`
          : `cannot reach ${this.base}: ${(e as Error).message}`,
        0,
        timedOut ? "timeout" : "unreachable",
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const e = (
      json as
        | { error?: { code?: string; message?: string; issues?: { path: string; message: string }[] } }
        | undefined
    )?.error;
    const ra = res.headers.get("retry-after");
    const reason = (json as { reason?: string } | undefined)?.reason;
    throw new PolicyAdvisorError(
      e?.message ?? reason ?? `HTTP ${res.status} from ${path}`,
      res.status,
      e?.code ?? (res.status === 503 ? "unavailable" : "http_error"),
      e?.issues ?? [],
      ra !== null && /^\d+$/.test(ra) ? Number(ra) : undefined,
    );
  }
}

/** The caller's chosen answer when the service cannot be had, shaped like any other answer. */
function failClosedAnswer(decision: DecisionValue, err: PolicyAdvisorError): AdvisoryAnswer {
  const why = `policy-advisor unavailable (${err.code}: ${err.message}); the caller's fail-closed answer applies.`;
  return {
    decisionId: `client-fallback-${randomUUID()}`,
    decision,
    classification: "service_unavailable",
    riskLevel: "high",
    reasoning: { roleCheck: why, trustCheck: why, environment: why, context: why },
    policyReferences: [],
    signals: [{ id: "service_unavailable", severity: "critical", detail: err.message }],
    source: "fallback",
    fallbackCause: "service_unavailable",
    versions: { policy: "unknown", prompt: null, model: null },
    latencyMs: 0,
    mode: "enforce",
    effectiveDecision: decision,
  };
}
