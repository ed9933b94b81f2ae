import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { GenerationAbortedError } from "./generate.js";

interface Waiter {
  resolve(seq: LlamaContextSequence): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The sequences of one or more contexts, lent to one request at a time. Requests beyond the sequence count
 * wait in FIFO order. node-llama-cpp batches the decode steps of a context's busy sequences together; separate
 * contexts decode independently (each on its own threads), so a free sequence is taken from the context with
 * the fewest busy ones: concurrent requests spread over the contexts before they share one.
 */
export class SequencePool {
  readonly sequences: LlamaContextSequence[];
  private readonly free = new Set<LlamaContextSequence>();
  /** Busy sequences per context. */
  private readonly load = new Map<LlamaContext, number>();
  private readonly waiters: Waiter[] = [];
  private closed = false;

  /** `perContext` sequences from each context. */
  constructor(contexts: LlamaContext[], perContext: number) {
    this.sequences = contexts.flatMap((context) =>
      Array.from({ length: perContext }, () => context.getSequence()),
    );
    for (const context of contexts) this.load.set(context, 0);
    for (const seq of this.sequences) this.free.add(seq);
  }

  get busy(): number {
    return this.sequences.length - this.free.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<LlamaContextSequence> {
    if (this.closed) return Promise.reject(new Error("the model is closed"));
    if (signal?.aborted) return Promise.reject(new GenerationAbortedError());
    const seq = this.leastLoaded();
    if (seq) return Promise.resolve(this.take(seq));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new GenerationAbortedError());
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(seq: LlamaContextSequence): void {
    this.load.set(seq.context, (this.load.get(seq.context) ?? 1) - 1);
    this.free.add(seq);
    const next = this.waiters.shift();
    if (next) {
      next.signal?.removeEventListener("abort", next.onAbort);
      // The released sequence is free again, but another context may now be less loaded.
      next.resolve(this.take(this.leastLoaded() ?? seq));
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error("the model is closed"));
  }

  private take(seq: LlamaContextSequence): LlamaContextSequence {
    this.free.delete(seq);
    this.load.set(seq.context, (this.load.get(seq.context) ?? 0) + 1);
    return seq;
  }

  private leastLoaded(): LlamaContextSequence | undefined {
    let best: LlamaContextSequence | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const seq of this.free) {
      const l = this.load.get(seq.context) ?? 0;
      if (l < bestLoad) {
        best = seq;
        bestLoad = l;
      }
    }
    return best;
  }
}
