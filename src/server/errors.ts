import { CodedError, type ErrorCode } from "../schemas/error-codes.js";
import { InvalidRequestError } from "../schemas/errors.js";

/**
 * The one table from error code to HTTP status, used by every route, the batch items, the jobs and the
 * AuthZEN routes. A Record over the closed union: a new code does not compile until it has a status.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  bad_url: 400,
  bad_request: 400,
  unsupported_media_type: 415,
  body_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  method_not_allowed: 405,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  queue_full: 429,
  caller_queue_full: 429,
  queue_unavailable: 503,
  no_worker: 503,
  shutting_down: 503,
  deadline: 504,
  log_full: 503,
  store_unavailable: 503,
  internal: 500,
  invalid_policy: 422,
  not_reloadable: 409,
  invalid_prompt: 422,
  invalid_config: 422,
  usage: 400,
  store_error: 503,
  invalid_rollout_config: 422,
  gates_not_passed: 409,
  no_next_mode: 409,
  invalid_rollback: 409,
  unknown_tier: 404,
  conflict: 409,
  note_required: 400,
  not_enough_corrections: 409,
  model_not_found: 503,
  not_gguf: 503,
  out_of_memory: 503,
  load_failed: 503,
  circuit_open: 503,
  model_output: 502,
  generation_aborted: 503,
  timeout: 504,
  aborted: 503,
  http_status: 502,
  network: 502,
  bad_response: 502,
};

/** A transport-level refusal with a code (its status comes from HTTP_STATUS) and headers to send. */
export class HttpError extends CodedError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
    this.name = "HttpError";
  }

  get statusCode(): number {
    return HTTP_STATUS[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; issues?: { path: string; message: string }[] };
}

/**
 * Codes answered as they are, message included: what the caller sent, what the pipeline refused, what an
 * operator asked of the rollout. Every other code (the model, the log's internals, the command line) is a
 * bug or an outage by the time it reaches a route, and is answered as "internal" with the detail logged.
 */
const ANSWERED: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "invalid_request",
  "invalid_json",
  "bad_url",
  "bad_request",
  "unsupported_media_type",
  "body_too_large",
  "headers_too_large",
  "request_timeout",
  "method_not_allowed",
  "not_found",
  "unauthorized",
  "forbidden",
  "rate_limited",
  "queue_full",
  "caller_queue_full",
  "queue_unavailable",
  "shutting_down",
  "log_full",
  "store_unavailable",
  "invalid_policy",
  "not_reloadable",
  "gates_not_passed",
  "no_next_mode",
  "invalid_rollback",
  "unknown_tier",
  "conflict",
  "note_required",
]);

/** Whether the caller sees this error's code and message (else: 500 internal, detail in the log). */
export function isAnswered(err: unknown): err is CodedError {
  return err instanceof CodedError && ANSWERED.has(err.code);
}

/**
 * Any error as the caller sees it: status, headers and body. One of ours keeps its code and message;
 * anything else (a bug, a library's error) is a 500 "internal" whose detail stays in the service log.
 */
export function errorAnswer(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
} {
  if (isAnswered(err)) {
    const headers: Record<string, string> = err instanceof HttpError ? { ...err.headers } : {};
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retry === "number") headers["Retry-After"] = String(retry);
    return {
      status: HTTP_STATUS[err.code],
      headers,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err instanceof InvalidRequestError ? { issues: err.issues } : {}),
        },
      },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: { code: "internal", message: "internal error; see the service log" } },
  };
}
