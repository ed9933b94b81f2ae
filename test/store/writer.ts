/**
 * A decision-log writer run as a separate process by the store tests:
 *   node --import tsx test/store/writer.ts DB_URL PREFIX COUNT CONCURRENCY
 * Appends COUNT records (ids PREFIX-0 ...) with CONCURRENCY appends in flight and prints each id on
 * stdout once its append resolved (acknowledged). COUNT 0 writes until killed.
 */
import { openStore } from "../../src/store/index.js";
import { makeRecord } from "./fixtures.js";

const [url, prefix, countArg, concArg] = process.argv.slice(2);
if (!url || !prefix) throw new Error("usage: writer.ts DB_URL PREFIX COUNT CONCURRENCY");
const count = Number(countArg ?? 100);
const concurrency = Number(concArg ?? 8);
const store = await openStore(url);
let next = 0;
const worker = async () => {
  while (count === 0 || next < count) {
    const id = `${prefix}-${next++}`;
    await store.append(makeRecord({ id, actor: `writer:${prefix}` }));
    process.stdout.write(`${id}\n`);
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
await store.close();
process.stdout.write("done\n");
