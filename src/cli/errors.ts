import { CodedError, hasErrorCode } from "../schemas/error-codes.js";
import { InvalidRequestError } from "../schemas/errors.js";

/** A mistake by the user (bad flag, unreadable file): message only, exit 2, no stack trace. */
export class UsageError extends CodedError<"usage"> {
  constructor(message: string) {
    super("usage", message);
    this.name = "UsageError";
  }
}

/** Codes that are the user's mistake (a flag, a file, a request): exit 2, message only. */
const USAGE_CODES = ["usage", "invalid_request", "invalid_policy", "invalid_prompt"] as const;

/** Prints a user-facing message for any error and returns the exit status. Stack traces only with DEBUG set. */
export function reportError(err: unknown): number {
  if (err instanceof InvalidRequestError) {
    process.stderr.write(`error: ${err.message.split(": ")[0]}\n`);
    for (const i of err.issues) process.stderr.write(`  ${i.path || "(root)"}: ${i.message}\n`);
    return 2;
  }
  if (hasErrorCode(err, ...USAGE_CODES)) {
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (process.env.DEBUG) process.stderr.write(`${e?.stack ?? ""}\n`);
  return 1;
}

/** Wraps a command action so every failure ends in a clear message and the right exit status. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
