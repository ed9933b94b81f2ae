import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cacheKey, hourBucket } from "../../src/advisor/patterns/cache.js";
import { loadPolicy } from "../../src/policy/load.js";
import { ConfigError, resolveServeConfig } from "../../src/server/config.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "pa-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("serve configuration", () => {
  it("defaults: loopback, 8787, ./policy-advisor.db, rules, cache auto", () => {
    const c = resolveServeConfig({}, { env: {} });
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 8787,
      db: "./policy-advisor.db",
      engine: "rules",
      cache: "auto",
    });
    expect(c.bodyLimit).toBe(1024 * 1024);
  });

  it("the sample config in deploy/ is valid", () => {
    const c = resolveServeConfig({}, { configFile: join(ROOT, "deploy/config.sample.yaml"), env: {} });
    expect(c).toMatchObject({
      port: 8787,
      cache: "auto",
      cacheTtl: 300,
      bodyLimit: 1024 * 1024,
      engine: "rules",
    });
  });

  it("flag > environment > file", () => {
    const file = join(dir, "c.yaml");
    writeFileSync(file, "port: 1000\ndeadlineMs: 1000\nqueueSize: 5\n");
    const c = resolveServeConfig(
      { port: "3000" },
      { configFile: file, env: { POLICY_ADVISOR_PORT: "2000", POLICY_ADVISOR_DEADLINE_MS: "2000" } },
    );
    expect(c).toMatchObject({ port: 3000, deadlineMs: 2000, queueSize: 5 });
  });

  it("sizes with units; bad values name their source", () => {
    expect(resolveServeConfig({ bodyLimit: "64kb" }, { env: {} }).bodyLimit).toBe(65536);
    expect(() => resolveServeConfig({ bodyLimit: "huge" }, { env: {} })).toThrow(
      /--body-limit: expected a size/,
    );
    expect(() => resolveServeConfig({}, { env: { POLICY_ADVISOR_CACHE: "maybe" } })).toThrow(ConfigError);
    expect(() => resolveServeConfig({ llmUrl: "not a url" }, { env: {} })).toThrow(/--llm-url/);
  });
});

describe("cache key", () => {
  const policy = loadPolicy().doc;
  const base = {
    action_type: "read",
    actor_role: "member",
    actor_id: "user:alice",
    t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  };

  it("ignores request and session ids and key order; keeps actor and every other field", () => {
    const a = cacheKey(
      { ...base, request_id: "1", session_id: "s", timestamp: "2026-03-03T15:00:00Z" },
      policy,
    );
    const b = cacheKey(
      {
        t3_tensor: base.t3_tensor,
        actor_id: "user:alice",
        actor_role: "member",
        action_type: "read",
        timestamp: "2026-03-03T15:59:00Z",
      },
      policy,
    );
    expect(a).toBe(b);
    expect(cacheKey({ ...base, actor_id: "user:bob", timestamp: "2026-03-03T15:00:00Z" }, policy)).not.toBe(
      a,
    );
    expect(
      cacheKey({ ...base, incident_status: "active", timestamp: "2026-03-03T15:00:00Z" }, policy),
    ).not.toBe(a);
  });

  it("buckets time by local weekday and hour in the policy's time zone", () => {
    expect(hourBucket("2026-03-03T15:00:00Z", "America/New_York")).toBe("Tue@10");
    expect(hourBucket("2026-03-03T03:00:00Z", "America/New_York")).toBe("Mon@22");
    // Without a timestamp the request is judged now: the bucket is the current hour's.
    const now = new Date("2026-03-07T18:30:00Z");
    expect(hourBucket(undefined, "America/New_York", now)).toBe("Sat@13");
  });
});
