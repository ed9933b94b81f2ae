import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode } from "../../src/bench/child.js";
import { type Sidecar, startSidecar } from "../../src/bench/sidecar.js";
import { workload } from "../../src/bench/workload.js";
import { openStore } from "../../src/store/index.js";
import { externalAvailable } from "../helpers/external.js";
import { longTests } from "../helpers/long.js";

const long = longTests("crash-safety");

/**
 * Crash safety of the real `serve` process: kill -9 in the middle of load, restart on the same decision
 * log, and every decision that was acknowledged (a 200 reached the client) is in the log. A corrupted or
 * locked SQLite file stops the start with a clear message instead of a silent empty log.
 */

const PG_BASE = process.env.POLICY_ADVISOR_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** Clients that post requests as fast as answers come, recording the id of every acknowledged decision. */
function clients(url: string, n: number): { acked: string[]; stop(): Promise<void> } {
  const acked: string[] = [];
  const bodies = workload(200, 3);
  let running = true;
  const loops = Array.from({ length: n }, async (_, k) => {
    let i = k;
    while (running) {
      try {
        const res = await fetch(`${url}/v1/advisory`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(bodies[i++ % bodies.length]),
          signal: AbortSignal.timeout(5000),
        });
        if (res.status === 200) {
          const d = (await res.json()) as { decisionId: string };
          acked.push(d.decisionId);
        } else await res.arrayBuffer();
      } catch {
        // the server died under us: this request was never acknowledged
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acked,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function crashAndRecover(db: string): Promise<{ acked: number; missing: string[] }> {
  const first = await startSidecar({ cache: false, db, env: { POLICY_ADVISOR_LOG_LEVEL: "warn" } });
  const load = clients(first.url, 16);
  // Let real traffic flow, then kill without warning while requests are in flight.
  const until = Date.now() + 3000;
  while (Date.now() < until || load.acked.length < 200) await new Promise((r) => setTimeout(r, 100));
  await first.child.kill9();
  await load.stop();
  const acked = [...load.acked];

  // Restart on the same log: it must start, and hold every acknowledged decision.
  const second: Sidecar = await startSidecar({ cache: false, db, env: { POLICY_ADVISOR_LOG_LEVEL: "warn" } });
  const after = await fetch(`${second.url}/v1/advisory`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(workload(1)[0]),
  });
  expect(after.status).toBe(200);
  await second.stop();

  const store = await openStore(db);
  const missing: string[] = [];
  try {
    for (const id of acked) if (!(await store.get(id))) missing.push(id);
  } finally {
    await store.close();
  }
  return { acked: acked.length, missing };
}

describe.skipIf(!long)("crash safety (long: CI or POLICY_ADVISOR_LONG_TESTS=1)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pa-crash-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("SQLite: kill -9 under load loses no acknowledged decision", async () => {
    const r = await crashAndRecover(join(dir, "decisions.db"));
    console.log(`crash (sqlite): ${r.acked} acknowledged, ${r.missing.length} missing after kill -9`);
    expect(r.acked).toBeGreaterThanOrEqual(200);
    expect(r.missing).toEqual([]);
  }, 120_000);

  describe("PostgreSQL", async () => {
    const up = await (async () => {
      const c = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 2000 });
      try {
        await c.connect();
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => {});
      }
    })();
    const available = externalAvailable("PostgreSQL", up, `no server at ${PG_BASE}`);
    const schema = `pa_rel_${process.pid}_${randomUUID().slice(0, 8)}`;
    afterAll(async () => {
      if (!available) return;
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    });

    it.skipIf(!available)(
      "kill -9 under load loses no acknowledged decision",
      async () => {
        const r = await crashAndRecover(`${PG_BASE}?schema=${schema}`);
        console.log(`crash (postgres): ${r.acked} acknowledged, ${r.missing.length} missing after kill -9`);
        expect(r.acked).toBeGreaterThanOrEqual(200);
        expect(r.missing).toEqual([]);
      },
      120_000,
    );
  });
});

/** Runs `serve` against a bad decision log and returns how it ended; it must never start. */
async function serveMustRefuse(db: string): Promise<{ code: number | null; stderr: string }> {
  const child = startNode("cli/main", ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db], {
    POLICY_ADVISOR_LOG_LEVEL: "warn",
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      void child.kill9();
      resolve(null);
    }, 30_000);
    child.proc.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stderr: child.stderr() };
}

describe("a bad SQLite decision log stops the start with a clear error", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pa-badlog-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("a file that is not a database: a failing exit, the path and the reason, no stack, file untouched", async () => {
    const file = join(dir, "garbage.db");
    const bytes = randomBytes(64 * 1024);
    writeFileSync(file, bytes);
    const r = await serveMustRefuse(file);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/not a SQLite database|corrupt/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  }, 60_000);

  it("a database with overwritten pages: refused, not silently emptied", async () => {
    const file = join(dir, "torn.db");
    const good = await openStore(file);
    await good.close();
    const buf = readFileSync(file);
    // Keep the header, trash everything after it (a torn write or a disk error).
    randomBytes(buf.length - 100).copy(buf, 100);
    writeFileSync(file, buf);
    const r = await serveMustRefuse(file);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/corrupt|malformed|not a SQLite database/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("a file locked by another process: a message that says it is locked", async () => {
    const file = join(dir, "locked.db");
    const store = await openStore(file);
    await store.close();
    const holder = new Database(file);
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.exec("BEGIN EXCLUSIVE");
    try {
      const r = await serveMustRefuse(file);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/locked/i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  }, 60_000);
});
