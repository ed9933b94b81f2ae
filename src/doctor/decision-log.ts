import { existsSync, statSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { DEFAULT_DB, openStore } from "../store/index.js";
import type { Check } from "./types.js";

/**
 * Can the sidecar write its decision log? An existing log (or PostgreSQL) is opened through the store and
 * probed; for a SQLite file that does not exist yet, a scratch database in the same directory is written
 * and removed, so the check leaves nothing behind.
 */
export async function checkDecisionLog(target: string = DEFAULT_DB): Promise<Check> {
  const started = performance.now();
  const isUrl = /^postgres(ql)?:\/\//i.test(target);
  const path = isUrl ? "" : resolve(target.replace(/^(sqlite|file):(\/\/)?/i, ""));
  try {
    if (isUrl || existsSync(path)) {
      const store = await openStore(target);
      try {
        await store.ping();
      } finally {
        await store.close();
      }
    } else {
      const dir = dirname(path);
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new Error(`directory ${dir} does not exist`);
      const scratch = join(dir, `.policy-advisor-doctor-${process.pid}.db`);
      try {
        const db = new Database(scratch);
        db.exec("CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1);");
        db.close();
      } finally {
        for (const f of [scratch, `${scratch}-wal`, `${scratch}-shm`, `${scratch}-journal`]) {
          if (existsSync(f)) unlinkSync(f);
        }
      }
    }
    return {
      name: "decision_log",
      passed: true,
      detail: isUrl
        ? `${redact(target)} accepts writes`
        : `${path} is writable${existsSync(path) ? "" : " (will be created)"}`,
      ms: performance.now() - started,
    };
  } catch (err) {
    return {
      name: "decision_log",
      passed: false,
      detail: `${isUrl ? redact(target) : path}: ${(err as Error).message}`,
      hint: isUrl
        ? "check the PostgreSQL URL, that the server runs and that the user may create tables"
        : "pass --db with a path in a writable directory, or fix the directory's permissions",
      ms: performance.now() - started,
    };
  }
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  // Anchored to the scheme's "//": unanchored, every "//" in a long URL rescanned the rest for an "@".
  return url.replace(/^([^:/]+:\/\/[^:/@]+):[^@]*@/, "$1:***@");
}
