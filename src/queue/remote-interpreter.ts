import { performance } from "node:perf_hooks";
import { verdictToDecision } from "../advisor/create.js";
import { newDecisionId } from "../advisor/decision-id.js";
import { type FailClosedCause, failClosed } from "../advisor/fail-closed.js";
import { assembleDecision, routesToLlm } from "../advisor/hybrid.js";
import { DeadlineExceededError } from "../advisor/patterns/deadline.js";
import { QueueFullError } from "../advisor/patterns/queue.js";
import type { AdviseOptions, Advisor } from "../advisor/types.js";
import { createEngine } from "../engine/index.js";
import type { LoadedPolicy } from "../policy/load.js";
import type { Decision, Versions } from "../schemas/decision.js";
import { type ParsedRequest, parseRequest } from "../schemas/request.js";
import { ADVISE, type AdviseJob, AdviseResultSchema } from "./protocol.js";
import type { SharedQueue } from "./shared-queue.js";

export interface RemoteInterpreterOptions {
  policy: LoadedPolicy;
  engine: "llm" | "hybrid";
  shared: SharedQueue;
  /** The longest a call waits for a reply when the caller gave no deadline. */
  maxWaitMs: number;
}

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}

/**
 * The advisor of a sidecar without a model: the rules decide here as everywhere (the service never sends
 * what they decide alone), and what needs the interpreter is one job on the shared queue, answered by
 * whichever worker takes it (request and reply: BullMQ's waitUntilFinished on the queue events). The
 * caller's deadline travels with the job: a worker that takes it too late does not run it. No worker
 * alive, Redis unreachable, or no reply in time: the fail-closed answer, with its cause.
 */
export function createRemoteInterpreter(opts: RemoteInterpreterOptions): Advisor {
  const { policy, engine: kind, shared } = opts;
  const engine = createEngine(policy);
  // The prompt and model are the workers': the last reply says which (null until one came back).
  let remote: Pick<Versions, "prompt" | "model"> = { prompt: null, model: null };
  const versions = (): Versions => ({ policy: policy.revision, ...remote });

  const adviseParsed = async (req: ParsedRequest, o: AdviseOptions = {}): Promise<Decision> => {
    const started = performance.now();
    const verdict = o.verdict ?? engine.evaluate(req.situation);
    const decisionId = o.decisionId ?? newDecisionId();
    if (!routesToLlm(kind, verdict)) return verdictToDecision(verdict, versions(), started, decisionId);
    const fail = (cause: FailClosedCause, detail: string): Decision =>
      assembleDecision(
        failClosed(verdict, cause, detail),
        versions(),
        performance.now() - started,
        decisionId,
      );

    let workers: number;
    try {
      workers = await shared.workersAlive();
      if (workers === 0) return fail("no_worker", `no worker is connected to ${shared.target.display}`);
      await shared.admit();
    } catch (err) {
      if (err instanceof QueueFullError) throw err;
      return fail("queue_unavailable", (err as Error).message);
    }
    const deadlineAt =
      o.deadlineAt ?? (o.deadlineMs !== undefined ? Date.now() + o.deadlineMs : Date.now() + opts.maxWaitMs);
    const data: AdviseJob = {
      input: req.original,
      engine: kind,
      policy: policy.revision,
      deadlineAt,
      decisionId,
    };
    let job: Awaited<ReturnType<typeof shared.queue.add>>;
    try {
      // Kept a minute after it finishes, so that a reply that came before the wait began is still read.
      job = await shared.queue.add(ADVISE, data, {
        jobId: decisionId,
        removeOnComplete: { age: 60 },
        removeOnFail: { age: 60 },
      });
    } catch (err) {
      return fail("queue_unavailable", (err as Error).message);
    }
    const ttl = Math.max(1, deadlineAt - Date.now());
    let reply: unknown;
    try {
      reply = await untilAborted(job.waitUntilFinished(shared.events, ttl), o.signal, () => {
        // Nobody waits any more: a job no worker took yet leaves the queue (one running finishes).
        void job.remove().catch(() => undefined);
      });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      if (/timed out before finishing/.test((err as Error).message)) throw new DeadlineExceededError(ttl);
      return fail("llm_error", (err as Error).message);
    }
    const r = AdviseResultSchema.safeParse(reply);
    if (!r.success) return fail("bad_response", "a worker's reply could not be read");
    if (r.data.kind === "expired") throw new DeadlineExceededError(ttl);
    const d = r.data.decision;
    remote = { prompt: d.versions.prompt, model: d.versions.model };
    // The decision is the worker's; its id, and the latency the caller saw (queue included), are ours.
    return { ...d, decisionId, latencyMs: performance.now() - started };
  };

  return {
    engine: kind,
    policy,
    versions,
    adviseParsed,
    verdict: (req: ParsedRequest) => engine.evaluate(req.situation),
    advise: (input: unknown, o?: AdviseOptions) => adviseParsed(parseRequest(input), o),
    // The shared queue belongs to the service, which closes it after the last caller was answered.
    close: async () => undefined,
  };
}
