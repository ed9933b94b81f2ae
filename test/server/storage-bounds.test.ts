import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { makeRecord } from "../store/fixtures.js";
import { loose, post, readSituation, startTestServer } from "./helpers.js";
import { serveChild } from "./serve-child.js";

const dir = mkdtempSync(join(tmpdir(), "pa-storage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** About 5 KB of request text that does not compress. */
const filler = (): string =>
  Array.from({ length: 80 }, () => Math.random().toString(36).slice(2, 10).padEnd(64, "z")).join("");

describe("a full decision log", () => {
  it("refuses new decisions with 503 log_full, says so on /ready and in the metrics, loses none it answered", async () => {
    const path = join(dir, "full.db");
    const empty = await openStore(path);
    const emptyBytes = (await empty.size()).bytes;
    await empty.close();
    const store = await openStore(path, { maxBytes: emptyBytes + 40 * 1024 });
    const server = await startTestServer({ store });
    try {
      const answered: string[] = [];
      let refused: Response | undefined;
      for (let i = 0; i < 100 && !refused; i++) {
        const r = await post(`${server.url}/v1/advisory`, { ...readSituation, team_context: filler() });
        if (r.status === 200) answered.push(loose(await r.json()).decisionId);
        else refused = r;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.headers.get("retry-after")).toBe("60");
      const body = loose(await refused?.json());
      expect(body.error.code).toBe("log_full");
      expect(body.error.message).toContain("the decision was not recorded");
      expect(body.error.message).toContain("--max-log-size");
      // Every decision that was answered is in the log.
      for (const id of answered) expect(await store.get(id), id).toBeDefined();
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      const readyBody = loose(await ready.json());
      expect(readyBody.reason).toContain("decision log full");
      expect(readyBody.checks.logSize).toMatch(/KB of .*KB \(\d+%\)/);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/policy_advisor_log_size_bytes \d+/);
      expect(metrics).toContain(`policy_advisor_log_size_limit_bytes ${emptyBytes + 40 * 1024}`);
      expect(metrics).toMatch(/policy_advisor_errors_total\{cause="log_full"\} 1/);
    } finally {
      await server.close();
    }
  });

  it("/ready warns above 90% of the limit while still ready", async () => {
    const path = join(dir, "warn.db");
    const fill = await openStore(path);
    for (let i = 0; i < 300; i++) await fill.append(makeRecord({ input: { details: filler() } }));
    const used = (await fill.size()).bytes;
    await fill.close();
    const store = await openStore(path, { maxBytes: Math.round(used / 0.95) });
    const server = await startTestServer({ store });
    try {
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(200);
      const body = loose(await ready.json());
      expect(body.ready).toBe(true);
      expect(body.warnings[0]).toMatch(/decision log at .* of .* \(9\d%\) of --max-log-size/);
      expect((await post(`${server.url}/v1/advisory`, readSituation)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("retention (--retain)", () => {
  it("prunes decisions older than the retention at start and periodically, logging the counts", async () => {
    const db = join(dir, "retain.db");
    const seed = await openStore(db);
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    for (let i = 0; i < 25; i++) await seed.append(makeRecord({ id: `old-${i}`, createdAt: old }));
    await seed.close();
    const { url, lines, stop } = await serveChild(["--db", db, "--retain", "3s", "--mode", "enforce"]);
    try {
      // The log is written asynchronously: the line may follow "listening" by a moment.
      let atStart: Record<string, unknown> | undefined;
      for (let i = 0; i < 50 && !atStart; i++) {
        atStart = lines().find((l) => l.msg === "decision log pruned");
        if (!atStart) await new Promise((r) => setTimeout(r, 100));
      }
      expect(atStart).toMatchObject({ pruned: 25, prunedCandidates: 0, retainMs: 3000 });
      const answer = loose(await (await post(`${url}/v1/advisory`, readSituation)).json());
      const reader = await openStore(db);
      try {
        expect(await reader.get(answer.decisionId)).toBeDefined();
        expect(await reader.get("old-1")).toBeUndefined();
        // Older than 3 s by now: the periodic pruning (every second here) removes it too.
        let gone = false;
        for (let i = 0; i < 100 && !gone; i++) {
          await new Promise((r) => setTimeout(r, 100));
          gone = (await reader.get(answer.decisionId)) === undefined;
        }
        expect(gone).toBe(true);
      } finally {
        await reader.close();
      }
      let periodic: Record<string, unknown>[] = [];
      for (let i = 0; i < 50 && periodic.length === 0; i++) {
        periodic = lines().filter((l) => l.msg === "decision log pruned" && l.pruned === 1);
        if (periodic.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(periodic.length).toBe(1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/policy_advisor_log_pruned_total 26/);
    } finally {
      await stop();
    }
  });
});
