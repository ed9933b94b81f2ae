import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deeplyNested, nastyString, r6Arb, situationArb } from "../helpers/arbitraries.js";
import { buildTestApp, type TestApp } from "./helpers.js";

/**
 * Every route of the sidecar under malformed, oversized, deeply nested, wrong-typed and unicode-heavy
 * input, through the real Fastify pipeline (content parsing, validation, auth, error handler) with the
 * real rules engine and SQLite log. Never a 500, always the error format of INTERFACES.md.
 */

let srv: TestApp;
const BODY_LIMIT = 64 * 1024;

beforeAll(async () => {
  srv = await buildTestApp({ bodyLimit: BODY_LIMIT, batchMax: 20 });
});
afterAll(async () => {
  await srv?.close();
});

const POST_ROUTES = ["/v1/advisory", "/v1/advisory/batch", "/v1/jobs"];

function expectWellFormed(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, `${what} -> ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400 && res.body.length > 0) {
    const body = res.json() as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code, what).toBe("string");
    expect(typeof body.error?.message, what).toBe("string");
    expect(String(body.error?.message)).not.toMatch(/\n\s+at /);
  }
}

/** Percent-encodes any string; a lone surrogate becomes the invalid UTF-8 bytes a hostile client sends. */
function encodeAny(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ""))}%ED%A0%80`;
  }
}

const post = (url: string, payload: string, contentType = "application/json") =>
  srv.app.inject({ method: "POST", url, payload, headers: { "content-type": contentType } });

describe("HTTP routes under fuzzing", () => {
  it("random JSON bodies on every POST route: 2xx or a clear 400, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POST_ROUTES),
        fc.jsonValue({ maxDepth: 5 }),
        async (route, body) => {
          const res = await post(route, JSON.stringify(body));
          expectWellFormed(res, `${route} ${JSON.stringify(body).slice(0, 100)}`);
          expect([200, 202, 400]).toContain(res.statusCode);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("valid requests with hostile unicode text everywhere get a decision; envelopes and batches too", async () => {
    const req = fc.oneof(situationArb, r6Arb);
    const body = fc.oneof(
      req,
      fc.record({
        request: req,
        control: fc.record({ decision: fc.constantFrom("allow", "deny", "require_attestation") }),
      }),
      fc.record({ requests: fc.array(req, { minLength: 1, maxLength: 5 }) }),
    );
    await fc.assert(
      fc.asyncProperty(body, nastyString(100), async (b, text) => {
        // Envelopes are strict ({request, control}): the free text goes inside the request.
        const withText =
          "requests" in b
            ? b
            : "control" in b
              ? { ...b, request: { ...(b.request as object), free_text_note: text } }
              : { ...b, free_text_note: text };
        const route = "requests" in b ? "/v1/advisory/batch" : "/v1/advisory";
        const res = await post(route, JSON.stringify(withText));
        expectWellFormed(res, route);
        // An R6Request without actorRole is fine (role from the directory or none); all these are valid.
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
        const json = res.json() as Record<string, unknown>;
        if (route === "/v1/advisory") {
          expect(["allow", "deny", "require_attestation"]).toContain(json.decision);
          expect(["allow", "deny", "require_attestation"]).toContain(json.effectiveDecision);
        } else {
          expect((json.results as unknown[]).length).toBe((b as { requests: unknown[] }).requests.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("bytes that are not JSON: 400 invalid_json (or 415 for other media types), never a 500", async () => {
    const raw = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.constantFrom(
        "{",
        "[",
        '{"a":',
        "nul",
        "{}}",
        '{"a":1,}',
        "\u0000",
        "\uFEFF{}",
        "{'a':1}",
        "NaN",
        "1e999999",
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_ROUTES), raw, async (route, payload) => {
        const res = await post(route, payload);
        expectWellFormed(res, `${route} ${JSON.stringify(payload).slice(0, 80)}`);
      }),
      { numRuns: 800 },
    );
  });

  it("other content types are refused with 415 naming JSON", async () => {
    for (const ct of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/xml",
    ]) {
      const res = await post("/v1/advisory", "a=1", ct);
      expectWellFormed(res, ct);
      expect(res.statusCode, ct).toBe(415);
      expect(res.body).toMatch(/JSON/);
    }
  });

  it("a body over the limit gets 413 on every POST route", async () => {
    const big = JSON.stringify({ action_type: "read", pad: "x".repeat(BODY_LIMIT + 10) });
    for (const route of POST_ROUTES) {
      const res = await post(route, big);
      expectWellFormed(res, route);
      expect(res.statusCode, route).toBe(413);
    }
  });

  it("a JSON body with __proto__ is refused as bad input, not merged into the request", async () => {
    const res = await post(
      "/v1/advisory",
      '{"action_type":"read","actor_role":"member","actor_id":"u","t3_tensor":{"competence":1,"reliability":1,"integrity":1},"__proto__":{"actor_role":"admin"}}',
    );
    expectWellFormed(res, "__proto__");
    expect(res.statusCode).toBe(400);
  });

  it("deeply nested unknown fields (2 000 levels) in both shapes: a clear answer, never a 500", async () => {
    const situation = {
      action_type: "read",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: 1, reliability: 1, integrity: 1 },
      deep: deeplyNested(2000),
    };
    const r6 = {
      requestId: "r",
      actorId: "user:alice",
      action: { type: "read", target: "docs/public/readme.md" },
      context: {},
      trustState: { competence: 1, reliability: 1, integrity: 1 },
      timestamp: "2026-01-01T00:00:00Z",
      deep: deeplyNested(2000),
    };
    for (const body of [situation, r6]) {
      const res = await post("/v1/advisory", JSON.stringify(body));
      expectWellFormed(res, "deep");
    }
  });

  // Regression: JSON.parse accepts any depth, and the adapters' recursive clone/merge and JSON.stringify of
  // the logged input overflowed the stack from about 3 000 levels (a 10 KB body got a 500). parseRequest
  // now refuses deep bodies by path.
  it("a body nested 5 000 levels deep gets a 400 naming the depth, not a 500", async () => {
    const d = 5000;
    const payload = `{"deep":${"[".repeat(d)}${"]".repeat(d)},"action_type":"read","actor_role":"member","actor_id":"u","t3_tensor":{"competence":1,"reliability":1,"integrity":1}}`;
    const res = await post("/v1/advisory", payload);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/levels deep/);
  });

  it("random paths, methods and query strings: 404/405/400, never a 500", async () => {
    const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
    const path = fc.oneof(
      fc.constantFrom(
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/v1/runtime",
        "/v1/jobs/",
        "/v1/jobs/x",
        "/v1/admin/reload",
        "/v1/decisions",
        "/v1/reviews/queue",
        "/v1/stats",
        "/v1/rollout",
      ),
      fc.webPath(),
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.webQueryParameters().map((q) => `?${q}`),
      nastyString(30).map((s) => `?q=${encodeAny(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(method, path, query, async (m, p, q) => {
        const res = await srv.app.inject({ method: m as "GET", url: `${p || "/"}${q}` });
        expectWellFormed(res, `${m} ${p}${q}`);
      }),
      { numRuns: 800 },
    );
  });

  it("job ids of any shape: 404 or 400, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(nastyString(300), async (id) => {
        const res = await srv.app.inject({ method: "GET", url: `/v1/jobs/${encodeAny(id)}` });
        expect(res.statusCode, id).toBeLessThan(500);
        expect([400, 404]).toContain(res.statusCode);
        expectWellFormed(res, id);
      }),
      { numRuns: 300 },
    );
  });

  // Regression: Fastify's router refused these before the error handler ran, in its own error format.
  it("a path with invalid percent-encoding gets a 400 in the contract's error format", async () => {
    for (const url of ["/v1/jobs/%ZZ", "/v1/jobs/%ED%A0%80", "/v1/decisions/%", "/v1/advisory%E0"]) {
      const res = await srv.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(400);
      expectWellFormed(res, url);
    }
  });

  it("a batch over the limit or of wrong-typed items is refused per item or as a whole, never a 500", async () => {
    const tooMany = await post(
      "/v1/advisory/batch",
      JSON.stringify({ requests: Array.from({ length: 21 }, () => ({})) }),
    );
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.body).toContain("at most 20");
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 20 }),
        async (items) => {
          const res = await post("/v1/advisory/batch", JSON.stringify({ requests: items }));
          expectWellFormed(res, "batch");
          if (res.statusCode === 200)
            expect((res.json() as { results: unknown[] }).results).toHaveLength(items.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the service still decides correctly after the fuzzing", async () => {
    const res = await post(
      "/v1/advisory",
      JSON.stringify({
        action_type: "delete_team",
        actor_role: "developer",
        actor_id: "user:bob",
        t3_tensor: { competence: 0.8, reliability: 0.9, integrity: 0.95 },
        resource: "team:main",
      }),
    );
    expect(res.statusCode).toBe(200);
    expect((res.json() as { decision: string }).decision).toBe("deny");
    const ready = await srv.app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(200);
  });
});
