/**
 * The decision log's writer thread. better-sqlite3 is synchronous: committed on the main thread, every
 * transaction (and with synchronous=FULL its fsync, and every WAL checkpoint's fsyncs) stops the event
 * loop, so no request is parsed or decided meanwhile and the next group commit stays small. Here the
 * inserts and their commits run on a thread and connection of their own; the main thread keeps
 * serving and only learns, by message, that a batch has committed (or failed).
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { RowValues, WriterInit, WriterReply, WriterRequest } from "./sqlite-writer-protocol.js";

function failure(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: unknown };
  return { message: e.message ?? String(err), ...(typeof e.code === "string" ? { code: e.code } : {}) };
}

function open(init: WriterInit): { db: Database.Database; insertMany: (rows: RowValues[]) => void } {
  // The main thread has created the file, its schema and WAL mode (a property of the file); this
  // connection only inserts. synchronous is per connection, so it is set here too.
  const db = new Database(init.path, { fileMustExist: true, timeout: init.busyTimeoutMs });
  try {
    db.pragma(`synchronous = ${init.sync === "full" ? "FULL" : "NORMAL"}`);
    const insert = db.prepare(init.insertSql);
    const insertMany = db.transaction((rows: RowValues[]) => {
      for (const row of rows) insert.run(row);
    });
    return { db, insertMany };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * PASSIVE checkpoints on a timer: they copy what the WAL holds into the database (fsyncing both) without
 * taking the write lock, so the main thread's commits never wait for them.
 */
function checkpointer(init: WriterInit, reply: (m: WriterReply) => void, port: MessagePort): void {
  let db: Database.Database;
  try {
    db = new Database(init.path, { fileMustExist: true, timeout: init.busyTimeoutMs });
    db.pragma(`synchronous = ${init.sync === "full" ? "FULL" : "NORMAL"}`);
  } catch (err) {
    reply({ kind: "failed", id: null, ...failure(err) });
    port.close();
    return;
  }
  const timer = setInterval(() => {
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // Busy or failing now: the next tick tries again, and the main connection's autocheckpoint is the backstop.
    }
  }, init.checkpointEveryMs ?? 100);
  reply({ kind: "ready" });
  port.on("message", (m: WriterRequest) => {
    if (m.kind === "truncate") {
      // Under steady writes a PASSIVE checkpoint never catches up with the last commit, so the WAL would never
      // start over and would keep growing. The main thread holds its commits while this runs; the ticks
      // above have copied most of the WAL already, so what is left is short.
      try {
        db.pragma("wal_checkpoint(TRUNCATE)");
        reply({ kind: "done", id: m.id });
      } catch (err) {
        reply({ kind: "failed", id: m.id, ...failure(err) });
      }
      return;
    }
    if (m.kind !== "close") return;
    clearInterval(timer);
    db.close();
    reply({ kind: "closed" });
    port.close();
  });
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error("sqlite-writer runs as a worker thread of the decision log");
  const reply = (m: WriterReply) => port.postMessage(m);
  if ((workerData as WriterInit).role === "checkpointer") {
    checkpointer(workerData as WriterInit, reply, port);
    return;
  }
  let writer: ReturnType<typeof open>;
  try {
    writer = open(workerData as WriterInit);
  } catch (err) {
    reply({ kind: "failed", id: null, ...failure(err) });
    port.close();
    return;
  }
  reply({ kind: "ready" });
  port.on("message", (m: WriterRequest) => {
    if (m.kind === "truncate") return;
    if (m.kind === "close") {
      writer.db.close();
      reply({ kind: "closed" });
      port.close();
      return;
    }
    try {
      writer.insertMany(m.rows);
      reply({ kind: "done", id: m.id });
    } catch (err) {
      reply({ kind: "failed", id: m.id, ...failure(err) });
    }
  });
}

main();
