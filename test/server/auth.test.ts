import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sidecar, startSidecar } from "../../src/bench/sidecar.js";

/**
 * Auth of the real `policy-advisor serve` process with a caller and a reviewer token: every protected
 * route refuses a missing or wrong token (401), a caller token cannot read the log, review or change the
 * rollout (403), and public routes stay open.
 */

const CALLER = "caller-token-0123456789abcdef";
const REVIEWER = "reviewer-token-0123456789abcdef";

let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startSidecar({
    cache: false,
    env: {
      POLICY_ADVISOR_TOKEN: CALLER,
      POLICY_ADVISOR_REVIEWER_TOKEN: REVIEWER,
      POLICY_ADVISOR_LOG_LEVEL: "warn",
    },
  });
}, 60_000);
afterAll(async () => {
  await sidecar?.stop();
});

const situation = {
  action_type: "read",
  actor_role: "member",
  actor_id: "user:alice",
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
};

type Call = { method: "GET" | "POST"; path: string; body?: unknown };
const CALLER_ROUTES: Call[] = [
  { method: "POST", path: "/v1/advisory", body: situation },
  { method: "POST", path: "/v1/advisory/batch", body: { requests: [situation] } },
  { method: "POST", path: "/v1/jobs", body: situation },
  { method: "GET", path: "/v1/runtime" },
  { method: "GET", path: "/metrics" },
];
const REVIEWER_ROUTES: Call[] = [
  { method: "GET", path: "/v1/decisions" },
  { method: "GET", path: "/v1/decisions/00000000-0000-4000-8000-000000000000" },
  { method: "GET", path: "/v1/reviews/queue" },
  {
    method: "POST",
    path: "/v1/decisions/00000000-0000-4000-8000-000000000000/review",
    body: { finalDecision: "allow", category: "too_strict", notes: "let me in" },
  },
  { method: "GET", path: "/v1/stats" },
  { method: "GET", path: "/v1/rollout" },
  { method: "POST", path: "/v1/rollout/deploy_prod/promote", body: { by: "mallory", note: "" } },
  { method: "POST", path: "/v1/rollout/read/rollback", body: { reason: "x" } },
  { method: "POST", path: "/v1/admin/reload", body: {} },
];

async function call(c: Call, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (c.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${sidecar.url}${c.path}`, {
    method: c.method,
    headers,
    ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
  });
}

describe("auth of the running service", () => {
  it("public routes answer without a token", async () => {
    for (const path of ["/health", "/ready", "/openapi.json"]) {
      const res = await fetch(`${sidecar.url}${path}`);
      expect(res.status, path).toBe(200);
    }
  });

  it.each([...CALLER_ROUTES, ...REVIEWER_ROUTES])("$method $path: 401 without a token", async (c) => {
    const res = await call(c);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/Bearer/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unauthorized");
  });

  it("wrong tokens of every kind are refused with 401 on every protected route", async () => {
    const wrong = fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }).map((t) => `Bearer ${t}`),
      fc.constantFrom(
        `Bearer ${CALLER.slice(0, -1)}`,
        `Bearer ${CALLER}x`,
        `Bearer ${CALLER.toUpperCase()}`,
        `Bearer ${REVIEWER.slice(1)}`,
        `Basic ${Buffer.from(`x:${REVIEWER}`).toString("base64")}`,
        CALLER,
        `Token ${REVIEWER}`,
        "Bearer",
        "Bearer ",
        `Bearer ${CALLER} ${REVIEWER}`,
      ),
    );
    const route = fc.constantFrom(...CALLER_ROUTES, ...REVIEWER_ROUTES);
    await fc.assert(
      fc.asyncProperty(route, wrong, async (c, auth) => {
        // Header values must be ByteStrings; a client cannot send others.
        fc.pre(/^[\x20-\x7e]*$/.test(auth) && auth.trim() === auth);
        const res = await call(c, auth);
        expect(res.status, `${c.path} with ${auth}`).toBe(401);
      }),
      { numRuns: 150 },
    );
  });

  it.each(CALLER_ROUTES)("$method $path: a caller token is accepted", async (c) => {
    const res = await call(c, `Bearer ${CALLER}`);
    expect(res.status).toBeLessThan(300);
  });

  it.each(REVIEWER_ROUTES)("$method $path: a caller token is refused with 403", async (c) => {
    const res = await call(c, `Bearer ${CALLER}`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toMatch(/reviewer/);
  });

  it("a caller cannot review its own decision; the decision stays unreviewed", async () => {
    const res = await call({ method: "POST", path: "/v1/advisory", body: situation }, `Bearer ${CALLER}`);
    const decision = (await res.json()) as { decisionId: string };
    const review = await call(
      {
        method: "POST",
        path: `/v1/decisions/${decision.decisionId}/review`,
        body: { finalDecision: "allow", category: "agree", notes: "self-review" },
      },
      `Bearer ${CALLER}`,
    );
    expect(review.status).toBe(403);
    const asReviewer = await call(
      { method: "GET", path: `/v1/decisions/${decision.decisionId}` },
      `Bearer ${REVIEWER}`,
    );
    expect(asReviewer.status).toBe(200);
    const record = (await asReviewer.json()) as { decisionId: string; review?: unknown };
    expect(record.decisionId).toBe(decision.decisionId);
    expect(record.review).toBeUndefined();
  });

  it("a reviewer token passes auth on the reviewer routes", async () => {
    for (const c of REVIEWER_ROUTES.filter((r) => r.method === "GET")) {
      const res = await call(c, `Bearer ${REVIEWER}`);
      // The one unknown decision id is a 404; everything else answers.
      expect(res.status, c.path).toBe(c.path.includes("00000000-") ? 404 : 200);
    }
  });
});
