/** An error answer from the sidecar ({"error": {code, message, issues?}}), or a transport failure. */
export class PolicyAdvisorError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the service could not be reached or did not answer in time. */
    readonly status: number,
    readonly code: string,
    readonly issues: { path: string; message: string }[] = [],
    /** Seconds the service asked to wait (429/503 Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "PolicyAdvisorError";
  }

  /** The service is down, overloaded or shutting down: worth retrying, and where fail-closed applies. */
  get unavailable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
