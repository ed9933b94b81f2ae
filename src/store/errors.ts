import { CodedError } from "../schemas/error-codes.js";

/** The decision log cannot be used (unreadable, corrupt, locked, unreachable): the message says which and why. */
export class StoreError extends CodedError<"store_error" | "log_full"> {
  constructor(
    message: string,
    options?: { cause?: unknown },
    code: "store_error" | "log_full" = "store_error",
  ) {
    super(code, message, options);
    this.name = "StoreError";
  }
}

/** Bytes as people read them: 1.5 GB, 300 MB, 12 KB. */
export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/**
 * The decision log has reached its size limit (--max-log-size): the record was not written, so the
 * decision must not be acknowledged. Nothing already stored is dropped to make room.
 */
export class LogFullError extends StoreError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `the decision log is full: ${formatBytes(bytes)} of its ${formatBytes(limit)} limit (--max-log-size); ` +
        "new decisions are refused until older ones are pruned (--retain) or the limit is raised",
      undefined,
      "log_full",
    );
    this.name = "LogFullError";
  }
}
