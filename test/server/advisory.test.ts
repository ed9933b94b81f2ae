import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loose, post, readR6, readSituation, startTestServer, type TestServer } from "./helpers.js";

describe("POST /v1/advisory", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("answers a situation with the decision JSON, mode and effectiveDecision, and logs it first", async () => {
    const res = await post(`${s.url}/v1/advisory`, readSituation);
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body).toMatchObject({
      decision: "allow",
      source: "engine",
      mode: "enforce",
      effectiveDecision: "allow",
    });
    for (const k of [
      "decisionId",
      "classification",
      "riskLevel",
      "reasoning",
      "policyReferences",
      "signals",
      "versions",
      "latencyMs",
    ]) {
      expect(body).toHaveProperty(k);
    }
    const logged = await s.store.get(body.decisionId);
    expect(logged?.decision.decision).toBe("allow");
    expect(logged?.shape).toBe("situation");
    expect(logged?.mode).toBe("enforce");
  });

  it("answers an R6Request (role from the policy's actor directory)", async () => {
    const res = await post(`${s.url}/v1/advisory`, readR6);
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.decision).toBe("allow");
    expect((await s.store.get(body.decisionId))?.shape).toBe("r6");
  });

  it("400 names each bad field by its path", async () => {
    const res = await post(`${s.url}/v1/advisory`, {
      ...readSituation,
      t3_tensor: { competence: 0.8, reliability: 2, integrity: "high" },
    });
    expect(res.status).toBe(400);
    const body = await res.json().then(loose);
    expect(body.error.code).toBe("invalid_request");
    const paths = body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain("t3_tensor.reliability");
    expect(paths).toContain("t3_tensor.integrity");
  });
});
