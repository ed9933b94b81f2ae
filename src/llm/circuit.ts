import { CodedError } from "../schemas/error-codes.js";
import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend } from "./types.js";

/**
 * A circuit breaker around any LlmBackend. After `failureThreshold` consecutive failures (errors,
 * garbage the backend rejects, hangs cut short by the caller's deadline) it opens: calls fail at once
 * with CircuitOpenError, so the advisor answers fail-closed without waiting on a sick model. After
 * `cooldownMs` one probe call is let through (half-open); its success closes the circuit, its failure
 * opens it again for another cool-down.
 */

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before a probe is let through. */
  cooldownMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  onStateChange?: (from: CircuitState, to: CircuitState, reason: string) => void;
}

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  failureThreshold: number;
  cooldownMs: number;
  /** Times the circuit opened since start. */
  opens: number;
  /** When an open circuit lets the next probe through (ISO), null unless open. */
  retryAt: string | null;
  lastError: string | null;
}

/** Thrown instead of calling the backend while the circuit is open (or a probe is in flight). */
export class CircuitOpenError extends CodedError<"circuit_open"> {
  constructor(readonly retryInMs: number) {
    super(
      "circuit_open",
      `LLM circuit open: the model failed repeatedly; next probe in ${Math.max(0, Math.ceil(retryInMs))} ms`,
    );
    this.name = "CircuitOpenError";
  }
}

/** Numeric form for a Prometheus gauge. */
export const circuitStateValue: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export class CircuitBreakerBackend implements LlmBackend {
  readonly kind: LlmBackend["kind"];
  readonly modelId: string;
  readonly synthetic?: boolean;
  readonly promptVersion: string;
  readonly parallelism: number;
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly onStateChange: CircuitOptions["onStateChange"];
  private current: CircuitState = "closed";
  private failures = 0;
  private openedAt = 0;
  private opens = 0;
  private probing = false;
  private lastError: string | null = null;

  constructor(
    readonly inner: LlmBackend,
    opts: CircuitOptions = {},
  ) {
    this.kind = inner.kind;
    this.modelId = inner.modelId;
    if (inner.synthetic) this.synthetic = true;
    this.promptVersion = inner.promptVersion;
    this.parallelism = inner.parallelism;
    this.threshold = Math.max(1, opts.failureThreshold ?? 5);
    this.cooldownMs = Math.max(0, opts.cooldownMs ?? 30_000);
    this.now = opts.now ?? Date.now;
    this.onStateChange = opts.onStateChange;
  }

  /** The state as of now: an open circuit whose cool-down has passed reports half_open. */
  get state(): CircuitState {
    if (this.current === "open" && this.now() - this.openedAt >= this.cooldownMs) return "half_open";
    return this.current;
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      failureThreshold: this.threshold,
      cooldownMs: this.cooldownMs,
      opens: this.opens,
      retryAt: state === "open" ? new Date(this.openedAt + this.cooldownMs).toISOString() : null,
      lastError: this.lastError,
    };
  }

  async advise(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    const state = this.state;
    if (state === "open") throw new CircuitOpenError(this.openedAt + this.cooldownMs - this.now());
    let probe = false;
    if (state === "half_open") {
      // One probe at a time: the others fail fast until it tells whether the model is back.
      if (this.probing) throw new CircuitOpenError(0);
      if (this.current !== "half_open") this.transition("half_open", "cool-down over, probing");
      this.probing = true;
      probe = true;
    }
    try {
      const result = await this.callUntilAborted(req);
      this.succeeded();
      return result;
    } catch (err) {
      this.failed(err);
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }

  /**
   * Calls the backend, but settles as soon as the caller's signal aborts even when the backend ignores
   * it (a hung model), so the failure is counted instead of leaking a promise that never settles.
   */
  private callUntilAborted(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    const signal = req.signal;
    if (!signal) return this.inner.advise(req);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<LlmAdviceResult>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      this.inner.advise(req).then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.current !== "closed") this.transition("closed", "probe succeeded");
  }

  private failed(err: unknown): void {
    this.failures += 1;
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.current === "half_open") {
      this.open(`probe failed: ${this.lastError}`);
    } else if (this.current === "closed" && this.failures >= this.threshold) {
      this.open(`${this.failures} consecutive failures, last: ${this.lastError}`);
    } else if (this.current === "open") {
      // A call that began before the circuit opened and failed late: restart the cool-down.
      this.openedAt = this.now();
    }
  }

  private open(reason: string): void {
    this.openedAt = this.now();
    this.opens += 1;
    this.transition("open", reason);
  }

  private transition(to: CircuitState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.onStateChange?.(from, to, reason);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new Error(typeof r === "string" ? r : "aborted: the deadline passed before the model answered");
}

export function withCircuitBreaker(backend: LlmBackend, opts?: CircuitOptions): CircuitBreakerBackend {
  return new CircuitBreakerBackend(backend, opts);
}
