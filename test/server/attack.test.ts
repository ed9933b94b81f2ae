import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { percentile } from "../../src/bench/stats.js";
import { readSituation } from "./helpers.js";
import { rawRequest } from "./raw-http-limits.js";
import { serveChild } from "./serve-child.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const ATTACKER = join(ROOT, "test/server/attacker.ts");
const dir = mkdtempSync(join(tmpdir(), "pa-attack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Long enough for well over a thousand measured requests at 100 a second. */
const ATTACK_MS = 24_000;
const PACE_MS = 10;
/** The open-file limit the attack was first found under: 320 slow connections made the service fail. */
const OPEN_FILES = 300;

interface AttackSummary {
  slowOpened: number;
  slowClosedByServer: number;
  slowOpenAtEnd: number;
  slowConnectErrors: number;
  bodies: number;
  bodyStatuses: Record<string, number>;
  bodyErrors: number;
}

/**
 * The attack of issue #12, bounded: the service (its own process, under `ulimit -n 300`, default limits)
 * takes 400 slow connections trickling a declared 900 KB body and a stream of pathological bodies at the
 * size limit, both from an attacker process, while a normal client keeps asking for decisions (on a
 * kept-alive connection, and every tenth request on a new one).
 */
describe("under a connection and body attack", () => {
  it("a normal client keeps getting answers, none failing, p99 under 100 ms", async () => {
    const svc = await serveChild(
      ["--db", join(dir, "attack.db"), "--mode", "enforce", "--log-level", "warn"],
      {
        wrap: ["sh", "-c", `ulimit -n ${OPEN_FILES} && exec "$@"`, "sh"],
      },
    );
    // The attacker runs niced: in production its CPU is another machine's, not the service's. What the
    // service spends on its traffic (accepting, refusing, reading, parsing) still counts.
    const attacker = spawn(
      "nice",
      [
        "-n",
        "19",
        process.execPath,
        "--import",
        "tsx",
        ATTACKER,
        svc.url,
        process.env.ATTACK_SLOW ?? "400",
        "127.0.0.2",
        "127.0.0.3",
        String(ATTACK_MS),
        String(1024 * 1024),
        process.env.ATTACK_BODY_CLIENTS ?? "2",
        process.env.ATTACK_RECONNECT_MS ?? "2000",
        process.env.ATTACK_BODY_PAUSE_MS ?? "50",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    const ready = new Promise<void>((resolve, reject) => {
      attacker.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready\n")) resolve();
      });
      attacker.once("exit", (code) => reject(new Error(`attacker exited ${code} before it was ready`)));
    });
    const finished = new Promise<AttackSummary>((resolve, reject) =>
      attacker.once("exit", (code) => {
        const last = out.trim().split("\n").at(-1) ?? "";
        if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last) as AttackSummary);
        else reject(new Error(`attacker exited ${code}: ${out}`));
      }),
    );
    // Killed when the test fails early: that rejection is not the test's failure.
    finished.catch(() => undefined);
    try {
      // A few requests first: the service's code paths compiled, as they are in a service that has run a while.
      for (let i = 0; i < 50; i++) await rawRequest(`${svc.url}/v1/advisory`, { body: readSituation });
      await ready;
      const latencies: number[] = [];
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
      const failures: string[] = [];
      const stopAt = performance.now() + ATTACK_MS - 2000;
      while (performance.now() < stopAt) {
        const started = performance.now();
        try {
          // Mostly on a kept-alive connection, as a caller's HTTP client does; every tenth on a new one,
          // since a client that needs a new connection must get one too.
          const fresh = latencies.length % 10 === 0;
          const r = await rawRequest(`${svc.url}/v1/advisory`, {
            body: readSituation,
            timeoutMs: 5000,
            ...(fresh ? {} : { agent: keepAlive }),
          });
          if (r.status !== 200) failures.push(`${r.status}: ${r.body.slice(0, 200)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
        const ms = performance.now() - started;
        latencies.push(ms);
        await new Promise((r) => setTimeout(r, Math.max(0, PACE_MS - ms)));
      }
      const summary = await finished;
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      console.log(
        `attack: ${latencies.length} requests, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ` +
          `${Math.max(...latencies).toFixed(1)} ms; attacker ${JSON.stringify(summary)}`,
      );
      // The normal client did not notice.
      expect(failures.slice(0, 10)).toEqual([]);
      // The attack was real: 400 slow connections tried, most refused by the per-client cap, the
      // pathological bodies answered (400, 413, or 429 past the byte budget), never a 500.
      const metrics = (await rawRequest(`${svc.url}/metrics`)).body;
      expect(summary.slowOpened).toBeGreaterThanOrEqual(100);
      // The connection caps themselves are asserted in limits.test.ts; the server closes slow connections at
      // its timeouts fast enough here that the attacker may stay under the per-client cap, so the refusal
      // count is reported, not asserted.
      console.log(
        metrics
          .split("\n")
          .filter((l) => l.startsWith("policy_advisor_connections_refused_total"))
          .join("; ") || "no connection refused by a cap",
      );
      expect(summary.bodies).toBeGreaterThan(20);
      expect(summary.bodyStatuses["400"]).toBeGreaterThan(0);
      expect(Object.keys(summary.bodyStatuses).every((s) => ["400", "413", "429"].includes(s))).toBe(true);
      expect(latencies.length).toBeGreaterThan(1000);
      expect(p99).toBeLessThan(100);
    } finally {
      attacker.kill("SIGKILL");
      await svc.stop();
    }
  }, 60_000);
});
