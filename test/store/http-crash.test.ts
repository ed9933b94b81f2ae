import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { externalAvailable } from "../helpers/external.js";
import { dropSchema, PG_URL, postgresUp, uniqueSchema } from "./fixtures.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pa-http-crash-"));
const schema = uniqueSchema();
const pgUp = externalAvailable("PostgreSQL", await postgresUp(), `no server at ${PG_URL}`);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (pgUp) await dropSchema(schema);
});

/** Starts `policy-advisor serve` on a free port; resolves with its URL once it listens. */
function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      "serve",
      "--db",
      db,
      "--port",
      "0",
      "--mode",
      "enforce",
      "--cache",
      "off",
      "--log-level",
      "silent",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`serve exited (${code}) before listening: ${err}`)));
  });
}

const situation = (i: number) => ({
  action_type: "read",
  actor_role: "member",
  actor_id: `user:crash${i}`,
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
  timestamp: "2026-03-03T15:00:00Z",
});

/**
 * The contract end to end: a decision answered with 200 is in the log, even when the sidecar is killed
 * with SIGKILL while requests are in flight.
 */
async function crashAndCheck(db: string): Promise<number> {
  const { child, url } = await serve(db);
  const acked: string[] = [];
  let stop = false;
  let i = 0;
  const client = async () => {
    while (!stop) {
      try {
        const res = await fetch(`${url}/v1/advisory`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(situation(i++)),
        });
        if (res.status === 200) acked.push(((await res.json()) as { decisionId: string }).decisionId);
      } catch {
        return; // the connection died with the process
      }
    }
  };
  const clients = Array.from({ length: 16 }, client);
  while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGKILL");
  stop = true;
  await Promise.all(clients);
  const store = await openStore(db);
  try {
    const stored = new Set((await store.query({ tier: "read" })).map((r) => r.decisionId));
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
  } finally {
    await store.close();
  }
  return acked.length;
}

describe("policy-advisor serve killed with SIGKILL", () => {
  it("SQLite: every decision answered with 200 is in the log", async () => {
    expect(await crashAndCheck(join(dir, "log.db"))).toBeGreaterThanOrEqual(200);
  }, 90_000);
  it.skipIf(!pgUp)(
    "PostgreSQL: every decision answered with 200 is in the log",
    async () => {
      expect(await crashAndCheck(`${PG_URL}?schema=${schema}`)).toBeGreaterThanOrEqual(200);
    },
    90_000,
  );
});
