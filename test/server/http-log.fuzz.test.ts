import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { workload } from "../../src/bench/workload.js";
import { DEFAULT_ROLLOUT } from "../../src/rollout/config.js";
import { Rollout } from "../../src/rollout/controller.js";
import { type BuiltApp, buildApp } from "../../src/server/app.js";
import { reviewRoutesFor } from "../../src/server/routes/review.js";
import { rolloutRoutesFor } from "../../src/server/routes/rollout.js";
import { statsRoutesFor } from "../../src/server/routes/stats.js";
import { uiRoutes } from "../../src/server/routes/ui.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";
import { nastyString } from "../helpers/arbitraries.js";

/**
 * The decision-log, review, stats and rollout routes (mounted as `serve` mounts them, on a real SQLite log
 * holding real decisions) under fuzzed query strings, ids and bodies: never a 500.
 */

let built: BuiltApp;
let store: DecisionStore;
let dir: string;
const ids: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pa-logfuzz-"));
  store = await openStore(join(dir, "decisions.db"));
  const rollout = await Rollout.open({
    store,
    config: DEFAULT_ROLLOUT,
    modeOverride: "advisory",
    applyConfig: true,
  });
  built = await buildApp({
    advisor: createAdvisor(),
    store,
    modes: rollout,
    plugins: [
      reviewRoutesFor({ store, rollout }),
      statsRoutesFor({ store }),
      rolloutRoutesFor({ rollout, store }),
      async (app) => uiRoutes(app),
    ],
  });
  await built.app.ready();
  for (const s of workload(60, 5)) {
    const res = await built.app.inject({ method: "POST", url: "/v1/advisory", payload: s });
    expect(res.statusCode).toBe(200);
    ids.push((res.json() as { decisionId: string }).decisionId);
  }
}, 60_000);
afterAll(async () => {
  await built?.app.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectNo500(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, `${what} -> ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400 && res.body.length > 0) {
    const body = res.json() as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code, what).toBe("string");
    expect(typeof body.error?.message, what).toBe("string");
  }
}

const anyValue = fc.oneof(
  nastyString(40),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    "true",
    "false",
    "",
    "-1",
    "0",
    "1e309",
    "NaN",
    "2026-13-45",
    "2026-01-01T00:00:00Z",
    "hour",
    "day",
    "read",
    "deploy_prod",
    "allow",
    "shadow",
  ),
);
const KEYS = [
  "tier",
  "action",
  "actor",
  "decision",
  "mode",
  "since",
  "until",
  "mismatches",
  "reviewed",
  "q",
  "limit",
  "offset",
  "bucket",
  "zzz",
];
const query = fc
  .dictionary(fc.constantFrom(...KEYS), anyValue, { maxKeys: 5 })
  .map((d) =>
    new URLSearchParams(Object.entries(d).map(([k, v]) => [k, v.replace(/[\uD800-\uDFFF]/g, "")])).toString(),
  );

describe("decision-log, review, stats and rollout routes under fuzzing", () => {
  it.each(["/v1/decisions", "/v1/reviews/queue", "/v1/stats", "/v1/rollout"])(
    "GET %s with any query: never a 500",
    async (path) => {
      await fc.assert(
        fc.asyncProperty(query, async (q) => {
          const res = await built.app.inject({ method: "GET", url: `${path}?${q}` });
          expectNo500(res, `${path}?${q}`);
        }),
        { numRuns: 300 },
      );
    },
  );

  it("the free-text search q with hostile text (LIKE wildcards, quotes, SQL) is data, not code", async () => {
    for (const q of [
      "%",
      "_",
      "\\",
      "'",
      "' OR 1=1 --",
      '"; DROP TABLE decisions; --',
      "%_%\\'\"",
      "\u0000",
    ]) {
      const res = await built.app.inject({ method: "GET", url: `/v1/decisions?q=${encodeURIComponent(q)}` });
      expectNo500(res, q);
    }
    const all = await built.app.inject({ method: "GET", url: "/v1/decisions?limit=1000" });
    expect((all.json() as { total: number }).total).toBe(ids.length);
  });

  it("GET /v1/decisions/:id with any id: 404 or 400, a real id: 200", async () => {
    await fc.assert(
      fc.asyncProperty(nastyString(100), async (id) => {
        const clean = id.replace(/[\uD800-\uDFFF]/g, "");
        const res = await built.app.inject({
          method: "GET",
          url: `/v1/decisions/${encodeURIComponent(clean)}`,
        });
        expectNo500(res, clean);
      }),
      { numRuns: 300 },
    );
    const res = await built.app.inject({ method: "GET", url: `/v1/decisions/${ids[0]}` });
    expect(res.statusCode).toBe(200);
  });

  it("POST a review with any body, on real and unknown ids: 200, 400 or 404, never a 500", async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          finalDecision: fc.oneof(fc.constantFrom("allow", "deny", "require_attestation"), nastyString(10)),
          category: fc.oneof(
            fc.constantFrom("agree", "too_strict", "too_permissive", "unclear"),
            nastyString(10),
          ),
          notes: fc.oneof(nastyString(500), fc.integer()),
        },
        { requiredKeys: [] },
      ),
    );
    const id = fc.oneof(fc.constantFrom(...ids), fc.uuid(), fc.constantFrom("x", "%20", "..", "null"));
    await fc.assert(
      fc.asyncProperty(id, body, async (i, b) => {
        const res = await built.app.inject({
          method: "POST",
          url: `/v1/decisions/${i}/review`,
          payload: JSON.stringify(b),
          headers: { "content-type": "application/json" },
        });
        expectNo500(res, `${i} ${JSON.stringify(b).slice(0, 100)}`);
      }),
      { numRuns: 400 },
    );
  });

  it("promote and rollback with any tier and body: never a 500", async () => {
    const tier = fc.oneof(
      fc.constantFrom("read", "write", "deploy_nonprod", "deploy_prod", "admin"),
      nastyString(12),
    );
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        { by: nastyString(20), note: nastyString(50), reason: nastyString(50) },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(tier, fc.constantFrom("promote", "rollback"), body, async (t, op, b) => {
        const clean = t.replace(/[\uD800-\uDFFF]/g, "");
        const res = await built.app.inject({
          method: "POST",
          url: `/v1/rollout/${encodeURIComponent(clean)}/${op}`,
          payload: JSON.stringify(b),
          headers: { "content-type": "application/json" },
        });
        expectNo500(res, `${op} ${clean} ${JSON.stringify(b).slice(0, 100)}`);
      }),
      { numRuns: 300 },
    );
  });

  it("the console's static routes under traversal attempts and odd paths: never a 500, never a file outside ui/", async () => {
    const path = fc.oneof(
      fc.webPath().map((p) => `/ui${p}`),
      fc.constantFrom(
        "/ui/../package.json",
        "/ui/..%2f..%2fpackage.json",
        "/ui/%2e%2e/%2e%2e/etc/passwd",
        "/ui/....//....//etc/passwd",
        "/ui/%00",
        "/ui//",
        "/ui/index.html?x=%ff",
        "/ui/dist/../../src/server/app.ts",
      ),
    );
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        const res = await built.app.inject({ method: "GET", url: p });
        expectNo500(res, p);
        expect(res.body).not.toContain('"name": "policy-advisor"');
        expect(res.body).not.toContain("root:x:0:0");
        expect(res.body).not.toContain("export async function buildApp");
      }),
      { numRuns: 300 },
    );
  });

  it("the log is intact after the fuzzing", async () => {
    for (const id of ids) expect(await store.get(id)).toBeDefined();
  });
});
