import { CodedError } from "../../schemas/error-codes.js";

/** The per-request deadline passed before an answer was ready. */
export class DeadlineExceededError extends CodedError<"deadline"> {
  constructor(readonly deadlineMs: number) {
    super("deadline", `no answer within the ${deadlineMs} ms deadline`);
    this.name = "DeadlineExceededError";
  }
}

/**
 * Runs `work` with a deadline: past it, the work's signal is aborted (so an LLM stops generating and a
 * queued job never starts) and the promise rejects with DeadlineExceededError, whatever the work does.
 * The caller turns that into the fail-closed fallback. A parent signal (client gone, shutdown) also aborts.
 */
export async function withDeadline<T>(
  deadlineMs: number | undefined,
  work: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  parent?.addEventListener("abort", onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    if (deadlineMs === undefined || !Number.isFinite(deadlineMs)) return await work(controller.signal);
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new DeadlineExceededError(deadlineMs);
        controller.abort(err);
        reject(err);
      }, deadlineMs);
      timer.unref?.();
    });
    const running = work(controller.signal);
    // The work may reject later (aborted); that rejection is expected and must not go unhandled.
    running.catch(() => undefined);
    return await Promise.race([running, expired]);
  } finally {
    if (timer) clearTimeout(timer);
    parent?.removeEventListener("abort", onParentAbort);
  }
}
