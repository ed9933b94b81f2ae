/**
 * Group commit: appends that arrive while a transaction is being written wait and go together in
 * the next one, so one fsync covers many decisions. Each append's promise settles only once the
 * transaction holding it has committed (or failed), which is what makes an acknowledgement durable.
 */
interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatchWriter<T> {
  /** Writes all items in one transaction; throws if the transaction did not commit. */
  writeBatch(items: T[]): Promise<void>;
}

export class GroupCommitter<T> {
  private queue: Pending<T>[] = [];
  private running: Promise<void> | null = null;
  /** Batches committed and items in them, for tests and metrics. */
  readonly stats = { batches: 0, items: 0, largestBatch: 0 };

  constructor(
    private readonly writer: BatchWriter<T>,
    private readonly maxBatch = 500,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // setImmediate lets the appends of requests served in the same tick join this batch.
      if (!this.running) this.running = new Promise<void>((r) => setImmediate(r)).then(() => this.loop());
    });
  }

  /** Resolves once everything queued so far is committed or failed. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.running = null;
    }
  }

  private async commit(batch: Pending<T>[]): Promise<void> {
    try {
      await this.writer.writeBatch(batch.map((p) => p.item));
      this.stats.batches += 1;
      this.stats.items += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
    }
    // One bad record (e.g. a duplicate id) must not fail its neighbours: retry them one by one.
    for (const p of batch) await this.commit([p]);
  }
}
