import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { GenerationAbortedError } from "./generate.js";

interface Waiter {
  resolve(seq: LlamaContextSequence): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The context's sequences, lent to one request at a time. Requests beyond the sequence count wait in FIFO
 * order; node-llama-cpp batches the decode steps of all busy sequences together.
 */
export class SequencePool {
  readonly sequences: LlamaContextSequence[];
  private readonly free: LlamaContextSequence[];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(context: LlamaContext, count: number) {
    this.sequences = Array.from({ length: count }, () => context.getSequence());
    this.free = [...this.sequences];
  }

  get busy(): number {
    return this.sequences.length - this.free.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<LlamaContextSequence> {
    if (this.closed) return Promise.reject(new Error("the model is closed"));
    if (signal?.aborted) return Promise.reject(new GenerationAbortedError());
    const seq = this.free.pop();
    if (seq) return Promise.resolve(seq);
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
    const next = this.waiters.shift();
    if (next) {
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(seq);
    } else {
      this.free.push(seq);
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error("the model is closed"));
  }
}
