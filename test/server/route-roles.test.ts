import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { fixedModes } from "../../src/advisor/modes.js";
import { buildApp } from "../../src/server/app.js";
import type { RouteRole } from "../../src/server/auth.js";
import { resolveServeConfig } from "../../src/server/config.js";
import type { DeclaredRoute } from "../../src/server/plugins/auth.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { openStore } from "../../src/store/index.js";
import { rawRequest } from "./raw-http.js";

/**
 * Authorization is decided by the route the router matched, from the role the route declares. The
 * service is the one `serve` runs (startService: every route plugin, the console included), with a caller
 * and a reviewer token, called over plain sockets so that each spelling of a path arrives as sent.
 */

const CALLER = "caller-token-0123456789abcdef";
const REVIEWER = "reviewer-token-0123456789abcdef";
const ROOT = new URL("../../", import.meta.url).pathname;

let dir: string;
let service: RunningService;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pa-roles-"));
  const config = resolveServeConfig(
    { port: 0, db: join(dir, "decisions.db"), logLevel: "silent", cache: "off" },
    { env: {} },
  );
  service = await startService(config, {
    POLICY_ADVISOR_TOKEN: CALLER,
    POLICY_ADVISOR_REVIEWER_TOKEN: REVIEWER,
  });
  const address = service.app.server.address();
  port = typeof address === "object" && address ? address.port : 0;
}, 60_000);
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Who = "none" | "caller" | "reviewer";
const WHO: Who[] = ["none", "caller", "reviewer"];
const authHeader = (who: Who): Record<string, string> =>
  who === "none" ? {} : { authorization: `Bearer ${who === "caller" ? CALLER : REVIEWER}` };

const send = (who: Who, method: string, target: string, body?: unknown) =>
  rawRequest(port, {
    method,
    target,
    headers: authHeader(who),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

const RANK: Record<Who | RouteRole, number> = { none: 0, public: 0, caller: 1, reviewer: 2 };
type Outcome = "allowed" | 401 | 403;
const expectedOutcome = (who: Who, role: RouteRole): Outcome =>
  RANK[who] >= RANK[role] ? "allowed" : who === "none" ? 401 : 403;
const outcomeOf = (status: number): Outcome => (status === 401 ? 401 : status === 403 ? 403 : "allowed");

/** Sample values for route parameters: a well-formed id, a real tier, a console file. */
const SAMPLE: Record<string, string> = { id: "00000000-0000-4000-8000-000000000000", tier: "write" };
const concrete = (url: string): string =>
  url.replace(/:(\w+)/g, (_, name: string) => SAMPLE[name] ?? "x").replace(/\*$/, "index.html");

const pct = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

/** The same path spelled as an attacker would: each must reach the same route or none (404). */
function variants(path: string): { name: string; target: string }[] {
  const firstLetters = path.replace(/\/([A-Za-z])/g, (_, c: string) => `/${pct(c)}`);
  return [
    { name: "first letter of each segment percent-encoded", target: firstLetters },
    { name: "every letter percent-encoded", target: path.replace(/[A-Za-z]/g, pct) },
    { name: "absolute-form request line", target: `http://127.0.0.1:${port}${path}` },
    { name: "absolute form, percent-encoded", target: `http://127.0.0.1:${port}${firstLetters}` },
    { name: "trailing #fragment", target: `${path}#fragment` },
    { name: "trailing #", target: `${path}#` },
    { name: "leading double slash", target: `/${path}` },
    { name: "double slash before the last segment", target: path.replace(/\/(?=[^/]*$)/, "//") },
    { name: "upper case", target: path.toUpperCase() },
    { name: "empty query", target: `${path}?` },
  ];
}

/** Runs `fn` over `items`, `limit` at a time (the machine is shared; 1000 connections at once are not). */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe("authorization from the matched route", () => {
  it("a route registered without a declared role, or with an unknown one, fails registration naming it", async () => {
    const store = await openStore(join(dir, "registration.db"));
    try {
      const build = (config?: { role: string }) =>
        buildApp({
          advisor: createAdvisor(),
          store,
          modes: fixedModes("shadow"),
          plugins: [
            async (app) => {
              app.post(
                "/v1/forgotten",
                config ? { config: config as { role: RouteRole } } : {},
                async () => ({}),
              );
            },
          ],
        });
      await expect(build()).rejects.toThrow(
        'route POST /v1/forgotten declares no role: give it config: { role: "public" | "caller" | "reviewer" }',
      );
      await expect(build({ role: "admin" })).rejects.toThrow(
        /route POST \/v1\/forgotten declares role "admin"/,
      );
    } finally {
      await store.close();
    }
  });

  it("issue #12: a caller token gets no reviewer power from another spelling of the path", async () => {
    const advised = await send("caller", "POST", "/v1/advisory", {
      action_type: "read",
      actor_role: "member",
      actor_id: "user:alice",
      t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
      resource: "docs/public/readme.md",
    });
    expect(advised.status).toBe(200);
    const id = (JSON.parse(advised.body) as { decisionId: string }).decisionId;

    const log = await send("caller", "GET", "/v1/%64ecisions");
    expect(log.status).toBe(403);
    expect(JSON.parse(log.body)).toEqual({
      error: {
        code: "forbidden",
        message: "GET /v1/decisions needs a reviewer token; this is a caller token",
      },
    });
    expect((await send("caller", "GET", "http://127.0.0.1/v1/decisions")).status).toBe(403);
    expect((await send("caller", "GET", "/v1/decisions#")).status).toBe(403);
    const review = await send("caller", "POST", `/v1/%64ecisions/${id}/review`, {
      finalDecision: "allow",
      category: "agree",
    });
    expect(review.status).toBe(403);
    const promote = await send("caller", "POST", "/v1/%72ollout/write/promote", { force: true, note: "x" });
    expect(promote.status).toBe(403);
    expect((await send("caller", "POST", "/v1/%61dmin/reload", {})).status).toBe(403);

    // Nothing changed, and the same spellings do reach the routes for a reviewer.
    const record = await send("reviewer", "GET", `/v1/%64ecisions/${id}`);
    expect(record.status).toBe(200);
    expect(JSON.parse(record.body)).not.toHaveProperty("review");
    const rollout = JSON.parse((await send("reviewer", "GET", "/v1/%72ollout")).body) as {
      tiers: { tier: string; mode: string }[];
    };
    expect(rollout.tiers.find((t) => t.tier === "write")?.mode).toBe("shadow");
  });

  it("every registered route, in every spelling, answers each token by the role the route declares", async () => {
    const routes = service.routes;
    // The walk is over what is registered; a sanity floor so that an empty list cannot pass.
    expect(routes.filter((r) => r.role === "reviewer").length).toBeGreaterThan(10);
    expect(routes.some((r) => r.url.startsWith("/ui/"))).toBe(true);
    const calls = routes.flatMap((route) =>
      WHO.flatMap((who) => {
        const path = concrete(route.url);
        return [{ name: "as registered", target: path }, ...variants(path)].map((v) => ({
          route,
          who,
          ...v,
        }));
      }),
    );
    const failures: string[] = [];
    await eachLimited(calls, 8, async ({ route, who, name, target }) => {
      const body = route.method === "GET" || route.method === "HEAD" ? undefined : {};
      const { status } = await send(who, route.method, target, body);
      const expected = expectedOutcome(who, route.role);
      const outcome = outcomeOf(status);
      const where = `${route.method} ${target} (${name}; route ${route.url} needs ${route.role}) as ${who}: ${status}`;
      if (name === "as registered") {
        if (outcome !== expected) failures.push(`${where}, expected ${expected}`);
        else if (status >= 500) failures.push(`${where}, expected an answer below 500`);
      } else if (status !== 404 && outcome !== expected) {
        failures.push(`${where}, expected 404 or ${expected}`);
      }
      if (expected !== "allowed" && status >= 200 && status < 300)
        failures.push(`${where}: 2xx below the role`);
    });
    expect(failures).toEqual([]);
  }, 120_000);

  it("docs/server.md lists every registered route with the role it declares", () => {
    const doc = readFileSync(join(ROOT, "docs/server.md"), "utf8");
    const section = doc.split("### Who may call what")[1]?.split("\n#")[0] ?? "";
    const documented = [
      ...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE)` \| `([^`]+)` \| (\w+) \|/gm),
    ].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    const registered = (routes: readonly DeclaredRoute[]) =>
      routes.filter((r) => r.method !== "HEAD").map((r) => `${r.method} ${r.url} ${r.role}`);
    // HEAD is documented once for all: each answers like its GET.
    for (const head of service.routes.filter((r) => r.method === "HEAD")) {
      expect(service.routes).toContainEqual({ ...head, method: "GET" });
    }
    const expected = registered(service.routes);
    expect(
      [...documented].sort(),
      `the table should read:\n${expected
        .map((r) => {
          const [method, url, role] = r.split(" ");
          return `| \`${method}\` | \`${url}\` | ${role} |`;
        })
        .join("\n")}`,
    ).toEqual([...expected].sort());
  });
});
