import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { StoreError } from "./errors.js";
import type { RowValues, WriterInit, WriterReply, WriterRequest } from "./sqlite-writer-protocol.js";

/**
 * Starts src/store/sqlite-writer as a worker thread. Compiled (dist/), it is a plain module. Run from
 * source (tests, tsx), Node 20 does not hand the parent's TypeScript loader on to a worker, so the
 * thread first registers tsx itself and then imports the .ts module.
 */
function spawnWriter(init: WriterInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./sqlite-writer.js", here), { workerData: init });
  const source = new URL("./sqlite-writer.ts", here).href;
  // The ESM entry of tsx's API: require.resolve gives the CommonJS twin next to it.
  const api = createRequire(here)
    .resolve("tsx/esm/api")
    .replace(/\.cjs$/, ".mjs");
  if (!existsSync(api)) throw new Error(`cannot run the writer thread from source: no ${api}`);
  const boot = `import(${JSON.stringify(pathToFileURL(api).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  // No inherited --import of tsx: registered twice, its hooks would transform twice.
  return new Worker(boot, { eval: true, workerData: init, execArgv: [] });
}

/** How long after a failed start the checkpointer is not tried again. */
const RETRY_START_MS = 5000;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The main thread's side of the writer thread: write(rows) resolves once the rows are committed in one
 * transaction there. The thread starts on the first write (a log that is only read never starts one)
 * and again after it died, so one crash fails the batches in flight, not the service. It keeps the
 * process alive only while a write is in flight.
 */
export class SqliteWriterThread {
  private starting: Promise<Worker> | null = null;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private failedAt = 0;

  constructor(private readonly init: WriterInit) {}

  /**
   * Starts the thread if it is not running (the checkpointer, which is asked after every commit). After a
   * failed start it waits RETRY_START_MS before trying again, rather than spawning a thread per commit.
   */
  ensureStarted(): Promise<void> {
    if (!this.starting && Date.now() - this.failedAt < RETRY_START_MS) return Promise.resolve();
    return this.start().then(
      () => undefined,
      (err: unknown) => {
        this.failedAt = Date.now();
        throw err;
      },
    );
  }

  async write(rows: RowValues[]): Promise<void> {
    return this.request((id) => ({ kind: "batch", id, rows }));
  }

  /** Checkpointer: resolves once the WAL has been copied into the database and emptied. */
  async truncate(): Promise<void> {
    return this.request((id) => ({ kind: "truncate", id }));
  }

  private async request(make: (id: number) => WriterRequest): Promise<void> {
    const worker = await this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage(make(id));
    });
  }

  /** Closes the thread's connection and waits for the thread to end. Call with no write in flight. */
  async close(): Promise<void> {
    const starting = this.starting;
    this.starting = null;
    if (!starting) return;
    let worker: Worker;
    try {
      worker = await starting;
    } catch {
      return;
    }
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once("exit", () => resolve());
      worker.postMessage({ kind: "close" } satisfies WriterRequest);
    });
  }

  private error(message: string, code?: string): StoreError {
    const err = new StoreError(`decision log ${this.init.path}: ${message}`);
    if (code) Object.assign(err, { code });
    return err;
  }

  private settle(id: number, err?: Error): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (err) w.reject(err);
    else w.resolve();
  }

  /** The thread is gone: what it had not answered fails; the next write starts a new one. */
  private lost(worker: Worker, err: Error): void {
    if (this.worker === worker) {
      this.worker = null;
      this.starting = null;
    }
    for (const id of [...this.waiting.keys()]) this.settle(id, err);
  }

  private start(): Promise<Worker> {
    if (this.starting) return this.starting;
    const starting = new Promise<Worker>((resolve, reject) => {
      const worker = spawnWriter(this.init);
      let ready = false;
      worker.on("message", (m: WriterReply) => {
        if (m.kind === "ready") {
          ready = true;
          this.worker = worker;
          if (this.waiting.size === 0) worker.unref();
          resolve(worker);
        } else if (m.kind === "done") this.settle(m.id);
        else if (m.kind === "failed") {
          const err = this.error(m.message, m.code);
          if (m.id === null) reject(err);
          else this.settle(m.id, err);
        }
      });
      worker.on("error", (e) => {
        const err = this.error(`writer thread failed: ${e.message}`);
        if (!ready) reject(err);
        this.lost(worker, err);
      });
      worker.on("exit", (code) => {
        const err = this.error(`writer thread ended (exit code ${code})`);
        if (!ready) reject(err);
        this.lost(worker, err);
      });
    });
    this.starting = starting;
    // A thread that could not start is not kept: the next write tries again (the file may be back).
    starting.catch(() => {
      if (this.starting === starting) this.starting = null;
    });
    return starting;
  }
}
