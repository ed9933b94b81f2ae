import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LogFullError, openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { externalAvailable } from "../helpers/external.js";
import { dropSchema, makeRecord, PG_URL, postgresUp, uniqueSchema } from "./fixtures.js";

/** Retention and the size limit, the same through both stores. */
const tmp = mkdtempSync(join(tmpdir(), "pa-bounds-"));
const schemas: string[] = [];
const pgUp = await postgresUp();

const backends = [
  {
    name: "sqlite",
    available: true,
    fresh: (): string => join(tmp, `log-${Math.random().toString(36).slice(2)}.db`),
  },
  {
    name: "postgres",
    available: externalAvailable("PostgreSQL", pgUp, `no server at ${PG_URL}`),
    fresh: (): string => {
      const s = uniqueSchema();
      schemas.push(s);
      return `${PG_URL}?schema=${s}`;
    },
  },
];

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  for (const s of schemas) await dropSchema(s);
});

/** A record of about `kb` KB of request text, created `ageMs` ago. */
const bulky = (id: string, kb: number, ageMs = 0) =>
  makeRecord({
    id,
    createdAt: new Date(Date.now() - ageMs).toISOString(),
    input: {
      action_type: "read",
      actor_role: "developer",
      actor_id: "user:bulk",
      t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
      // Random text: SQLite stores it as is, PostgreSQL may compress repetitive text.
      details: Array.from({ length: kb * 16 }, () =>
        Math.random().toString(36).slice(2, 10).padEnd(64, "x"),
      ).join(""),
    },
  });

const DAY = 86_400_000;

for (const b of backends) {
  describe.skipIf(!b.available)(`decision log bounds: ${b.name}`, () => {
    const open: DecisionStore[] = [];
    const openLog = async (url: string, maxBytes: number | null = null) => {
      const s = await openStore(url, { maxBytes });
      open.push(s);
      return s;
    };
    afterAll(async () => {
      for (const s of open) await s.close();
    });

    it("prune removes only what is older than the cut-off, candidates too, and the size goes down", async () => {
      const store = await openLog(b.fresh());
      for (let i = 0; i < 30; i++) await store.append(bulky(`old-${i}`, 4, 40 * DAY));
      for (let i = 0; i < 10; i++) await store.append(bulky(`new-${i}`, 4, 1 * DAY));
      await store.appendCandidate({
        decisionId: "old-1",
        candidate: "c",
        createdAt: new Date(Date.now() - 40 * DAY).toISOString(),
        decision: (await store.get("old-1"))!.decision,
      });
      const before = await store.size();
      expect(before.limit).toBe(null);
      const result = await store.prune(new Date(Date.now() - 30 * DAY).toISOString());
      expect(result).toEqual({ decisions: 30, candidates: 1 });
      expect(await store.count({})).toBe(10);
      expect(await store.get("new-3")).toBeDefined();
      expect(await store.get("old-3")).toBeUndefined();
      expect((await store.size()).bytes).toBeLessThan(before.bytes - 30 * 4 * 1024 * 0.5);
      expect(await store.prune(new Date(Date.now() - 30 * DAY).toISOString())).toEqual({
        decisions: 0,
        candidates: 0,
      });
    });

    it("a full log refuses new decisions with LogFullError and keeps every one it acknowledged", async () => {
      const url = b.fresh();
      const probe = await openLog(url);
      const empty = (await probe.size()).bytes;
      // Room for about 20 records of 4 KB.
      const limit = empty + 20 * 5 * 1024;
      const store = await openLog(url, limit);
      const acked: string[] = [];
      let refused: unknown;
      for (let i = 0; i < 60 && !refused; i++) {
        try {
          await store.append(bulky(`fill-${i}`, 4));
          acked.push(`fill-${i}`);
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toBeInstanceOf(LogFullError);
      expect((refused as Error).message).toMatch(
        /the decision log is full: .* of its .* limit \(--max-log-size\)/,
      );
      expect(acked.length).toBeGreaterThan(5);
      expect(acked.length).toBeLessThan(40);
      // Concurrent appends at the limit: each either committed (and readable) or refused, none lost.
      const burst = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.append(bulky(`burst-${i}`, 1))),
      );
      for (const [i, r] of burst.entries()) {
        if (r.status === "fulfilled") acked.push(`burst-${i}`);
        else expect(r.reason).toBeInstanceOf(LogFullError);
      }
      for (const id of acked) expect(await store.get(id), id).toBeDefined();
      expect(await store.count({})).toBe(acked.length);
      const size = await store.size();
      expect(size.limit).toBe(limit);
      expect(size.bytes).toBeLessThanOrEqual(limit);
    });

    it("pruning makes room again", async () => {
      const url = b.fresh();
      const probe = await openLog(url);
      const empty = (await probe.size()).bytes;
      const store = await openLog(url, empty + 20 * 5 * 1024);
      let i = 0;
      for (;;) {
        try {
          await store.append(bulky(`aged-${i}`, 4, 60 * DAY));
          i++;
        } catch (err) {
          expect(err).toBeInstanceOf(LogFullError);
          break;
        }
      }
      await expect(store.append(bulky("fresh-0", 4))).rejects.toBeInstanceOf(LogFullError);
      expect((await store.prune(new Date(Date.now() - 30 * DAY).toISOString())).decisions).toBe(i);
      await store.append(bulky("fresh-0", 4));
      expect(await store.get("fresh-0")).toBeDefined();
    });
  });
}

describe.skipIf(!pgUp)("decision log bounds: postgres, several sidecars", () => {
  it("stores sharing one log count one size", async () => {
    const url = `${PG_URL}?schema=${uniqueSchema()}`;
    schemas.push(new URL(url).searchParams.get("schema") ?? "");
    const a = await openStore(url);
    const bStore = await openStore(url);
    try {
      await a.append(bulky("a-1", 4));
      await bStore.append(bulky("b-1", 4));
      expect((await a.size()).bytes).toBe((await bStore.size()).bytes);
      const both = (await a.size()).bytes;
      await bStore.prune(new Date(Date.now() + 1000).toISOString());
      expect((await a.size()).bytes).toBeLessThan(both);
      expect(await a.count({})).toBe(0);
      // A store opened later folds the rows of the others into one and keeps the sum.
      await a.append(bulky("a-2", 4));
      const sum = (await a.size()).bytes;
      const c = await openStore(url);
      expect((await c.size()).bytes).toBe(sum);
      await c.close();
    } finally {
      await a.close();
      await bStore.close();
    }
  });
});
