import { randomUUID } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { externalAvailable } from "../helpers/external.js";
import { buildTestApp, type TestApp } from "../server/helpers.js";

/**
 * The decision log going away under a running service (PostgreSQL behind a TCP proxy that the test cuts
 * and restores): no decision is acknowledged that was not logged, the caller gets a 503 naming the log
 * (never a 500), /ready says so, and the service recovers by itself when the database is back.
 */

const PG_BASE = process.env.POLICY_ADVISOR_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** A TCP proxy to PostgreSQL that can be cut (connections dropped, port refusing) and restored. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    const addr = server.address();
    this.port = typeof addr === "object" && addr ? addr.port : 0;
    this.server = server;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const pgUp = await (async () => {
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
const available = externalAvailable("PostgreSQL", pgUp, `no server at ${PG_BASE}`);

describe.skipIf(!available)("decision log (PostgreSQL) lost and restored under a running service", () => {
  const schema = `pa_relfault_${process.pid}_${randomUUID().slice(0, 8)}`;
  const target = new URL(PG_BASE);
  const proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
  let srv: TestApp;
  let store: DecisionStore;

  beforeAll(async () => {
    await proxy.up();
    const viaProxy = new URL(PG_BASE);
    viaProxy.port = String(proxy.port);
    viaProxy.searchParams.set("schema", schema);
    store = await openStore(viaProxy.toString());
    srv = await buildTestApp({ store, cache: { enabled: false, ttlSeconds: 1, size: 1 } });
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await proxy.down();
    const c = new pg.Client({ connectionString: PG_BASE });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  const situation = {
    action_type: "read",
    actor_role: "member",
    actor_id: "user:alice",
    t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
    resource: "docs/public/readme.md",
  };
  const ask = () => srv.app.inject({ method: "POST", url: "/v1/advisory", payload: situation });

  it("503 naming the log while it is gone, never a 500 nor an unlogged 200; recovers when it is back", async () => {
    const acked: string[] = [];
    const first = await ask();
    expect(first.statusCode).toBe(200);
    acked.push((first.json() as { decisionId: string }).decisionId);

    await proxy.down();
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await ask();
      expect(res.statusCode, res.body).toBe(503);
      const body = res.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe("store_unavailable");
      expect(body.error.message).toMatch(/decision log/);
      expect(performance.now() - t0).toBeLessThan(15_000);
    }
    const ready = await srv.app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.body).toMatch(/decision log/);

    await proxy.up();
    let recovered = false;
    for (let i = 0; i < 20 && !recovered; i++) {
      const res = await ask();
      expect([200, 503]).toContain(res.statusCode);
      if (res.statusCode === 200) {
        recovered = true;
        acked.push((res.json() as { decisionId: string }).decisionId);
      } else await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(true);
    expect((await srv.app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
    for (const id of acked) expect(await store.get(id)).toBeDefined();
  }, 120_000);
});
