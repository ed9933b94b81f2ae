import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AdvisoryAnswer } from "../../src/advisor/pipeline.js";
import { loadPolicy } from "../../src/policy/load.js";
import { DecisionValueSchema } from "../../src/schemas/common.js";
import type { Decision } from "../../src/schemas/decision.js";
import { InvalidRequestError } from "../../src/schemas/errors.js";
import { evaluationToInput, parseEvaluation, toAuthzenDecision } from "../../src/server/authzen.js";

const doc = loadPolicy().doc;
const trust = { competence: 0.9, reliability: 0.9, integrity: 0.9 };

function answer(decision: Decision["decision"], effective: Decision["decision"]): AdvisoryAnswer {
  return {
    decisionId: "01900000-0000-7000-8000-000000000000",
    decision,
    classification: "c",
    riskLevel: "high",
    reasoning: { roleCheck: "r", trustCheck: "t", environment: "e", context: "c" },
    policyReferences: [],
    signals: [],
    source: "engine",
    versions: { policy: "p", prompt: null, model: null },
    latencyMs: 1,
    mode: "advisory",
    effectiveDecision: effective,
  };
}

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidRequestError) return err.issues.map((i) => i.path);
    throw err;
  }
  return [];
};

describe("the AuthZEN answer", () => {
  it("true only for an effective allow; require_attestation is never true and always carries the obligation", () => {
    const values = DecisionValueSchema.options;
    fc.assert(
      fc.property(fc.constantFrom(...values), fc.constantFrom(...values), (advice, effective) => {
        const d = toAuthzenDecision(answer(advice, effective));
        expect(d.decision).toBe(effective === "allow");
        expect(d.context?.decision_id).toBe("01900000-0000-7000-8000-000000000000");
        expect(typeof d.context?.reason_user).toBe("string");
        expect(d.context?.obligations !== undefined).toBe(effective === "require_attestation");
      }),
    );
  });
});

describe("the mapping to a situation", () => {
  const base = {
    subject: { type: "service", id: "billing-api", properties: { role: "developer", trust } },
    action: { name: "commit", properties: { branch: "main" } },
    resource: { type: "repo", id: "payments" },
  };

  it("fills the situation from subject, action, resource and context", () => {
    const input = evaluationToInput(
      parseEvaluation({
        ...base,
        context: {
          time: "2026-03-03T15:00:00Z",
          team_context: "Reviews by two people",
          incident_status: "sev1",
          policy_advisor: { control: "deny" },
        },
      }),
      doc,
      { requestId: "r-9" },
    );
    expect(input.control).toBe("deny");
    expect(input.parsed.shape).toBe("situation");
    expect(input.parsed.situation).toEqual({
      actor_id: "service:billing-api",
      actor_role: "developer",
      t3_tensor: trust,
      action_type: "commit",
      parameters: { branch: "main" },
      resource: "repo:payments",
      timestamp: "2026-03-03T15:00:00Z",
      team_context: "Reviews by two people",
      incident_status: "sev1",
      request_id: "r-9",
    });
  });

  it("takes the role from the actor directory (as an R6Request does) and needs trust from somewhere", () => {
    const ci = { ...base, subject: { type: "bot", id: "github-actions", properties: { trust } } };
    expect(evaluationToInput(parseEvaluation(ci), doc).parsed.situation.actor_role).toBe("");
    const noTrust = { ...base, subject: { type: "bot", id: "github-actions" } };
    expect(issuesOf(() => evaluationToInput(parseEvaluation(noTrust), doc))).toEqual([
      "subject.properties.trust",
    ]);
    const withDirectoryTrust = { ...doc, actorTrust: { "bot:github-actions": trust } };
    expect(
      evaluationToInput(parseEvaluation(noTrust), withDirectoryTrust).parsed.situation.t3_tensor,
    ).toEqual(trust);
  });

  it("refuses context keys that would contradict the mapped fields, naming them", () => {
    for (const key of ["actor_role", "t3_tensor", "action_type", "resource", "actor_id", "timestamp"]) {
      expect(
        issuesOf(() => evaluationToInput(parseEvaluation({ ...base, context: { [key]: "x" } }), doc)),
      ).toEqual([`context.${key}`]);
    }
  });

  it("names issues where they were sent in a batch item or its defaults", () => {
    const paths = {
      subject: "subject",
      action: "evaluations[3].action",
      resource: "evaluations[3].resource",
      context: "context",
    };
    const bad = { ...base, action: { name: "  " }, context: { time: "not a time" } };
    expect(issuesOf(() => parseEvaluation(bad, paths))).toEqual(["evaluations[3].action.name"]);
    const badTime = { ...base, context: { time: "not a time" } };
    expect(issuesOf(() => evaluationToInput(parseEvaluation(badTime, paths), doc, { paths }))).toEqual([
      "context.time",
    ]);
  });
});
