import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../../src/schemas/errors.js";
import { parseRequest } from "../../src/schemas/request.js";

function issues(input: unknown) {
  try {
    parseRequest(input);
  } catch (err) {
    if (err instanceof InvalidRequestError) return err.issues;
    throw err;
  }
  return [];
}

const ok = {
  action_type: "read",
  actor_role: "member",
  actor_id: "u",
  t3_tensor: { competence: 0.5, reliability: 0.5, integrity: 0.5 },
};

describe("request validation names each bad field by path", () => {
  it("reports a trust score out of range with the contract's wording", () => {
    expect(issues({ ...ok, t3_tensor: { competence: 0.5, reliability: 0.5, integrity: 1.4 } })).toEqual([
      { path: "t3_tensor.integrity", message: "expected a number between 0 and 1" },
    ]);
  });
  it("reports every bad field at once", () => {
    const paths = issues({
      action_type: "",
      actor_role: "member",
      actor_id: "u",
      t3_tensor: { competence: "high", reliability: 0.5 },
      timestamp: "yesterday",
    }).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["action_type", "t3_tensor.competence", "t3_tensor.integrity", "timestamp"]),
    );
  });
  it("validates R6Requests with nested paths", () => {
    const paths = issues({
      requestId: "r",
      actorId: "a",
      action: { target: "x" },
      context: { callerRiskAssessment: "extreme" },
      trustState: { competence: 1, reliability: 1, integrity: 1 },
      timestamp: "2026-01-01T00:00:00Z",
    }).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["action.type", "context.callerRiskAssessment"]));
  });
  it("says what it expected when the body is neither shape", () => {
    expect(issues({ hello: "world" })[0]!.message).toMatch(/situation needs action_type/);
    expect(issues([1, 2])[0]!.message).toMatch(/expected a JSON object/);
  });
  it("keeps unknown extra fields", () => {
    const r = parseRequest({ ...ok, incident_status: "critical", nested: { a: [1, 2] } });
    expect(r.situation).toMatchObject({ incident_status: "critical", nested: { a: [1, 2] } });
  });
});

describe("fields that become required R6 fields", () => {
  it("refuses an empty request_id, which could not become an R6 requestId", () => {
    expect(issues({ ...ok, request_id: "" })).toEqual([
      { path: "request_id", message: "expected a request id, got an empty string" },
    ]);
  });
});
