import { CodedError } from "../../schemas/error-codes.js";

/**
 * Why a call to a model server failed. `retryable` says whether another attempt may succeed (429, 5xx,
 * network); the advisor fails closed on any of them once retries are spent.
 */
export type LlmHttpErrorCode = "timeout" | "aborted" | "http_status" | "network" | "bad_response";

export class LlmHttpError extends CodedError<LlmHttpErrorCode> {
  constructor(
    code: LlmHttpErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** Seconds the server asked us to wait (Retry-After). */
    readonly retryAfterS?: number,
  ) {
    super(code, message);
    this.name = "LlmHttpError";
  }

  /** The server rejected the request because of response_format (it has no structured output). */
  refusedFormat = false;
}
