import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { parseRolloutConfig, Rollout, RolloutMetrics } from "../../src/rollout/index.js";
import { openStore } from "../../src/store/index.js";
import { externalAvailable } from "../helpers/external.js";
import { dropSchema, makeRecord, PG_URL, postgresUp, uniqueSchema } from "../store/fixtures.js";

const up = externalAvailable("PostgreSQL", await postgresUp(), `no server at ${PG_URL}`);
const schema = uniqueSchema();
afterAll(async () => {
  if (up) await dropSchema(schema);
});

describe.skipIf(!up)("two sidecars sharing one PostgreSQL log", () => {
  it("see each other's promotions and automatic rollbacks", async () => {
    const url = `${PG_URL}?schema=${schema}`;
    const config = parseRolloutConfig({
      tiers: { write: "shadow", read: "enforce" },
      gates: { minSample: 10 },
      rollback: { minSample: 10 },
    });
    const [s1, s2] = await Promise.all([openStore(url), openStore(url)]);
    try {
      const a = await Rollout.open({
        store: s1,
        config,
        applyConfig: true,
        metrics: new RolloutMetrics(new Registry()),
      });
      const b = await Rollout.open({
        store: s2,
        config,
        applyConfig: true,
        metrics: new RolloutMetrics(new Registry()),
      });
      // The second sidecar with the same file records nothing new.
      expect((await s2.rolloutEvents()).filter((e) => e.kind === "config")).toHaveLength(5);
      const soon = new Date(Date.now() + 1000).toISOString();
      await Promise.all(
        Array.from({ length: 12 }, () =>
          s1.append(
            makeRecord({
              tier: "write",
              mode: "shadow",
              decision: "allow",
              control: "allow",
              createdAt: soon,
            }),
          ),
        ),
      );
      await b.promote("write", "dana", "12/12 agree");
      expect(a.resolveMode("write")).toBe("shadow"); // not yet refreshed
      await a.refresh();
      expect(a.resolveMode("write")).toBe("advisory");
      // Errors logged by sidecar b; sidecar a's monitor rolls the tier back for both.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s2.append(
            makeRecord({
              tier: "read",
              mode: "enforce",
              source: i < 5 ? "fallback" : "engine",
              createdAt: soon,
            }),
          ),
        ),
      );
      // Both monitors fire at once: exactly one rollback is recorded.
      const [doneA, doneB] = await Promise.all([a.check(), b.check()]);
      expect([...doneA, ...doneB].map((d) => [d.tier, d.trigger])).toEqual([["read", "error_rate"]]);
      expect((await s1.rolloutEvents("read")).filter((e) => e.kind === "rollback")).toHaveLength(1);
      await b.refresh();
      expect(b.resolveMode("read")).toBe("shadow");
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });
});
