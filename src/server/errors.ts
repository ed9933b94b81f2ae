/** An error with an HTTP status and a stable code, safe to show a caller (no stack, no internals). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** The decision log could not take the record: the decision is not acknowledged. */
export class StoreUnavailableError extends HttpError {
  constructor(cause: string) {
    super(503, "store_unavailable", `the decision log could not record the decision: ${cause}`);
  }
}

/** The decision log is at its size limit: the decision is not recorded, so it is not acknowledged. */
export class LogFullHttpError extends HttpError {
  constructor(message: string) {
    super(503, "log_full", `the decision was not recorded: ${message}`, { "Retry-After": "60" });
  }
}

export interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}
