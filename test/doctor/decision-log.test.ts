import { describe, expect, it } from "vitest";
import { checkDecisionLog } from "../../src/doctor/decision-log.js";

describe("doctor decision-log check", () => {
  it("names an unreachable PostgreSQL URL without its password", async () => {
    const c = await checkDecisionLog("postgres://advisor:s3cret@127.0.0.1:1/decisions");
    expect(c.passed).toBe(false);
    expect(c.detail).toContain("postgres://advisor:***@127.0.0.1:1/decisions");
    expect(c.detail).not.toContain("s3cr");
  });

  it("names a long URL with no password quickly (no rescan from every // for an @)", async () => {
    const url = `postgres://127.0.0.1:1/${"//x:".repeat(40_000)}`;
    const started = performance.now();
    const c = await checkDecisionLog(url);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(c.passed).toBe(false);
    expect(c.detail.startsWith(url)).toBe(true);
  });
});
