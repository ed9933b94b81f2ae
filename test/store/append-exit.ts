/**
 * Run as a child by test/store/sqlite-writer.test.ts: node --import tsx append-exit.ts DB N
 * Appends N records, prints "acked N", and returns without closing the log: the process must still
 * end by itself (the writer thread holds it open only while a write is in flight).
 */
import { openStore } from "../../src/store/index.js";
import { makeRecord } from "./fixtures.js";

const [db, n] = process.argv.slice(2);
if (!db) throw new Error("usage: append-exit.ts DB N");
const store = await openStore(db);
const count = Number(n ?? 10);
await Promise.all(Array.from({ length: count }, (_, i) => store.append(makeRecord({ id: `exit-${i}` }))));
process.stdout.write(`acked ${count}\n`);
