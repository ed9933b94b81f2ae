import { z } from "zod";

/**
 * Every error code the project raises, with what it means: the one closed list. Each module's error type
 * carries one of these; the HTTP adapter maps each to one status (src/server/errors.ts); docs/errors.md
 * documents each (test/docs/errors.test.ts checks both ways).
 */
export const ERROR_CODES = {
  // A caller's request
  invalid_request: "the request does not match the schema; `issues` names each bad field",
  invalid_json: "the body is not JSON; the message gives the position",
  bad_url: "the request path is not a valid URL",
  bad_request: "another malformed request (for example a malformed header)",
  unsupported_media_type: "the body is not sent as application/json",
  body_too_large: "the body is over the route's limit, which the message states",
  headers_too_large: "the request headers are over 16 KB",
  request_timeout: "the request did not arrive within the service's header or request timeout",
  method_not_allowed: "the route exists but not for this method; the Allow header lists the methods",
  not_found: "no such route, decision, or job",
  unauthorized: "no valid bearer token",
  forbidden: "the token's role may not call this route",
  rate_limited: "too many requests or body bytes from this caller; Retry-After says when to retry",
  // The decision pipeline
  queue_full: "the advisory queue is full; Retry-After says when to retry",
  caller_queue_full:
    "this caller has as many jobs on the shared queue as it may (--queue-per-caller); Retry-After",
  queue_unavailable: "the shared queue (Redis) cannot take or tell a job now; Retry-After says when to retry",
  no_worker: "no interpreter worker is connected to the shared queue (answered as a fail-closed decision)",
  shutting_down: "the service is shutting down; retry on another instance",
  deadline: "no advice within the deadline (answered as a fail-closed decision, never as an error)",
  log_full: "the decision log is at its size limit: the decision was not recorded, so not acknowledged",
  store_unavailable: "the decision log could not record the decision: it was not acknowledged",
  internal: "an unexpected error; the service log has the detail",
  // Policies, prompts, configuration, the command line
  invalid_policy: "the policy file does not load; the message names the file and field",
  not_reloadable: "the service was started without a policy file to reload",
  invalid_prompt: "the prompt variant does not load; the message names the file and field",
  invalid_config: "a serve option or configuration value is invalid; the message names it",
  usage: "the command line is wrong (exit code 2); the message names the option",
  // The decision log
  store_error: "the decision log cannot be used (unreadable, corrupt, locked, unreachable)",
  // Rollout
  invalid_rollout_config: "the rollout file does not load; the message names the field",
  gates_not_passed: "a promotion (or a start-up mode) whose gates fail; the message lists them",
  no_next_mode: "the tier is already at its highest allowed mode",
  invalid_rollback: "the tier cannot roll back to that mode from where it is",
  unknown_tier: "no such tier",
  conflict: "the tier changed while the request was decided (another sidecar or operator)",
  note_required: "a forced change needs a note saying why",
  not_enough_corrections: "too few reviewed corrections to export a fine-tuning set",
  // The model (these become fail-closed decisions on the request path; they are errors for load and doctor)
  model_not_found: "the model file does not exist",
  not_gguf: "the model file is not a GGUF file",
  out_of_memory: "the model does not fit in memory",
  load_failed: "the model could not be loaded",
  circuit_open: "the model failed repeatedly and is not asked until the next probe",
  model_output: "the model's answer is unusable (not the expected JSON)",
  generation_aborted: "the model's generation was aborted",
  timeout: "the model server did not answer in time",
  aborted: "the model request was aborted",
  http_status: "the model server answered with an error status",
  network: "the model server could not be reached",
  bad_response: "the model server's answer is not an OpenAI-compatible completion",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/**
 * The base of every error type in the project: a stable code from the closed list and a message fit for
 * the user (it names the bad input; no stack, no internals).
 */
export class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CodedError";
  }
}

/** The error's code when it is one of ours, else undefined (a bug, or a library's error). */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  return err instanceof CodedError ? err.code : undefined;
}

/** Whether `err` is one of ours with one of `codes`. */
export function hasErrorCode<C extends ErrorCode>(err: unknown, ...codes: C[]): err is CodedError<C> {
  return err instanceof CodedError && (codes as ErrorCode[]).includes(err.code);
}
