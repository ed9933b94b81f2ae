import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createAdvisor } from "../../src/advisor/create.js";
import { DEFAULT_POLICY_PATH, parsePolicy } from "../../src/policy/load.js";
import { TokenSet } from "../../src/server/auth.js";
import { loose, post, startTestServer, type TestServer } from "./helpers.js";

/**
 * The OpenID AuthZEN Authorization API 1.0 over the real service. The request and answer examples are
 * the specification's own (openid/authzen, api/authorization-api-1_0.md, final 1.0), sent unchanged; the
 * test policy gives the spec's subject, alice@example.com, a directory entry (role and baseline trust)
 * because the spec's examples carry neither, and makes the documents the spec's answers deny deniable.
 */

const SPEC_TIME = "1985-10-26T01:22-07:00";

function authzenPolicy() {
  const doc = parseYaml(readFileSync(DEFAULT_POLICY_PATH, "utf8")) as Record<string, unknown> & {
    roles: Record<string, { resourceLimits?: Record<string, string> }>;
    resources: unknown[];
    actors: Record<string, string>;
  };
  doc.actors["user:alice@example.com"] = "member";
  doc.actorTrust = { "user:alice@example.com": { competence: 0.8, reliability: 0.8, integrity: 0.9 } };
  // The spec's examples are at all hours; this team works around the clock.
  doc.workingHours = { timeZone: "UTC", start: 0, end: 24, days: [0, 1, 2, 3, 4, 5, 6] };
  doc.resources.push({
    id: "restricted_documents",
    label: "a restricted document",
    description: "documents members may not read (the spec's denied examples)",
    patterns: ["^document:(2|subject-search\\.md)$"],
    risk: { read: "medium", write: "high", deploy: "high", admin: "critical" },
  });
  doc.roles.member!.resourceLimits = { ...doc.roles.member!.resourceLimits, restricted_documents: "deny" };
  return parsePolicy(JSON.stringify(doc), "authzen-test.json");
}

const alice = { type: "user", id: "alice@example.com" };

/** The README's borderline deploy: the rules answer require_attestation. */
const charlieDeploy = {
  subject: {
    type: "user",
    id: "charlie",
    properties: { trust: { competence: 0.72, reliability: 0.68, integrity: 0.75 } },
  },
  action: { name: "deploy" },
  resource: { type: "env", id: "production" },
  context: { team_context: "Team policy requires 0.7 trust for deploys", time: "2026-03-03T15:00:00Z" },
};

const bobDeploy = {
  subject: {
    type: "user",
    id: "bob",
    properties: { role: "developer", trust: { competence: 0.8, reliability: 0.8, integrity: 0.9 } },
  },
  action: { name: "deploy" },
  resource: { type: "env", id: "production" },
  context: { time: "2026-03-03T15:00:00Z" },
};

describe("AuthZEN 1.0: the specification's examples", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce", advisor: createAdvisor({ policy: authzenPolicy() }) });
  });
  afterAll(async () => {
    await s.close();
  });

  it("the HTTPS Access Evaluation example: 200 {decision: true}, the X-Request-ID echoed, the decision logged", async () => {
    const requestId = "bfe9eb29-ab87-4ca3-be83-a1d5d8305716";
    const res = await post(
      `${s.url}/access/v1/evaluation`,
      {
        subject: { type: "user", id: "alice@example.com" },
        resource: { type: "todo", id: "1" },
        action: { name: "can_read" },
        context: { time: SPEC_TIME },
      },
      { "X-Request-ID": requestId },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    const body = await res.json().then(loose);
    expect(body.decision).toBe(true);
    expect(body.context).toMatchObject({ advice: "allow", effective_decision: "allow", mode: "enforce" });
    const logged = await s.store.get(body.context.decision_id);
    expect(logged?.decision.decision).toBe("allow");
    expect(logged?.input).toMatchObject({
      actor_id: "user:alice@example.com",
      action_type: "can_read",
      resource: "todo:1",
      timestamp: SPEC_TIME,
      request_id: requestId,
    });
  });

  it("the Access Evaluation API request example (action properties, account resource)", async () => {
    const res = await post(`${s.url}/access/v1/evaluation`, {
      subject: { type: "user", id: "alice@example.com" },
      resource: { type: "account", id: "123" },
      action: { name: "can_read", properties: { method: "GET" } },
      context: { time: SPEC_TIME },
    });
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.decision).toBe(true);
    expect(Object.keys(body).sort()).toEqual(["context", "decision"]);
    expect((await s.store.get(body.context.decision_id))?.input).toMatchObject({
      parameters: { method: "GET" },
    });
  });

  it("the subject, resource and action examples with properties are accepted (unknown fields ignored)", async () => {
    const res = await post(`${s.url}/access/v1/evaluation`, {
      subject: {
        type: "user",
        id: "alice@example.com",
        properties: { department: "Sales", ip_address: "172.217.22.14", device_id: "8:65:ee:17:7e:0b" },
      },
      resource: {
        type: "book",
        id: "123",
        properties: { library_record: { title: "AuthZEN in Action", isbn: "978-0593383322" } },
      },
      action: { name: "can_read" },
      context: { time: SPEC_TIME, schema: "https://schema.example.com/access-request.schema.json" },
      an_unknown_top_level_field: { ignored: true },
    });
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(typeof body.decision).toBe("boolean");
    const input = (await s.store.get(body.context.decision_id))?.input as Record<string, unknown>;
    expect(input.subject_properties).toEqual({
      department: "Sales",
      ip_address: "172.217.22.14",
      device_id: "8:65:ee:17:7e:0b",
    });
    expect(input).not.toHaveProperty("an_unknown_top_level_field");
  });

  it("the boxcarring example without defaults: three answers in order", async () => {
    const item = (id: string) => ({
      subject: alice,
      action: { name: "can_read" },
      resource: { type: "document", id },
      context: { time: "2024-05-31T15:22-07:00" },
    });
    const res = await post(`${s.url}/access/v1/evaluations`, {
      evaluations: [item("boxcarring.md"), item("subject-search.md"), item("resource-search.md")],
    });
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body).not.toHaveProperty("decision");
    expect(body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, true]);
  });

  it("the HTTPS Access Evaluations example: top-level defaults, the third overriding the action", async () => {
    const requestId = "bfe9eb29-ab87-4ca3-be83-a1d5d8305716";
    const res = await post(
      `${s.url}/access/v1/evaluations`,
      {
        subject: { type: "user", id: "alice@example.com" },
        context: { time: "2024-05-31T15:22-07:00" },
        action: { name: "can_read" },
        evaluations: [
          { resource: { type: "document", id: "boxcarring.md" } },
          { resource: { type: "document", id: "subject-search.md" } },
          { action: { name: "can_edit" }, resource: { type: "document", id: "resource-search.md" } },
        ],
      },
      { "X-Request-ID": requestId },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    const body = await res.json().then(loose);
    // The spec's answer: true, then two denials, each with its reason in the context.
    expect(body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, false]);
    for (const e of body.evaluations) expect(typeof e.context).toBe("object");
    const third = await s.store.get(body.evaluations[2].context.decision_id);
    expect(third?.input).toMatchObject({
      action_type: "can_edit",
      actor_id: "user:alice@example.com",
      resource: "document:resource-search.md",
    });
    expect(body.evaluations[2].context.reason_admin.role_check).toMatch(/member/);
  });

  const semantics = (semantic?: string) => ({
    subject: { type: "user", id: "alice@example.com" },
    action: { name: "read" },
    ...(semantic ? { options: { evaluations_semantic: semantic } } : {}),
    evaluations: [
      { resource: { type: "document", id: "1" } },
      { resource: { type: "document", id: "2" } },
      { resource: { type: "document", id: "3" } },
    ],
  });
  const decisionsOf = (body: { evaluations: { decision: boolean }[] }) =>
    body.evaluations.map((e) => e.decision);

  it("execute_all (the default): every evaluation, in order", async () => {
    for (const semantic of ["execute_all", undefined]) {
      const body = await (await post(`${s.url}/access/v1/evaluations`, semantics(semantic))).json();
      expect(decisionsOf(body)).toEqual([true, false, true]);
    }
  });

  it("deny_on_first_deny: stops at the first denial, which says why, like the spec's answer", async () => {
    const before = await s.store.count({});
    const body = await (await post(`${s.url}/access/v1/evaluations`, semantics("deny_on_first_deny")))
      .json()
      .then(loose);
    expect(decisionsOf(body)).toEqual([true, false]);
    expect(body.evaluations[1].context).toMatchObject({ code: "200", reason: "deny_on_first_deny" });
    // The third was never evaluated: only two decisions were logged.
    expect(await s.store.count({})).toBe(before + 2);
  });

  it("permit_on_first_permit: stops at the first permit", async () => {
    const body = await (await post(`${s.url}/access/v1/evaluations`, semantics("permit_on_first_permit")))
      .json()
      .then(loose);
    expect(decisionsOf(body)).toEqual([true]);
    const later = await (
      await post(`${s.url}/access/v1/evaluations`, {
        ...semantics("permit_on_first_permit"),
        evaluations: [
          { resource: { type: "document", id: "2" } },
          { resource: { type: "document", id: "3" } },
          { resource: { type: "document", id: "1" } },
        ],
      })
    )
      .json()
      .then(loose);
    expect(decisionsOf(later)).toEqual([false, true]);
    expect(later.evaluations[1].context).toMatchObject({ reason: "permit_on_first_permit" });
  });

  it("the options example (an unknown option is ignored); an evaluation missing a required key fails closed alone", async () => {
    const res = await post(`${s.url}/access/v1/evaluations`, {
      evaluations: [{ resource: { type: "doc", id: "1" }, subject: { type: "doc", id: "2" } }],
      options: { evaluations_semantic: "execute_all", another_option: "value" },
    });
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.evaluations).toHaveLength(1);
    expect(body.evaluations[0]).toEqual({
      decision: false,
      context: {
        error: expect.objectContaining({
          status: 400,
          code: "invalid_request",
          issues: [{ path: "evaluations[0].action", message: "required" }],
        }),
      },
    });
  });

  it("an evaluations request without evaluations is a single evaluation (backwards compatible)", async () => {
    const res = await post(`${s.url}/access/v1/evaluations`, {
      subject: alice,
      action: { name: "can_read" },
      resource: { type: "todo", id: "1" },
      evaluations: [],
    });
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.decision).toBe(true);
    expect(body).not.toHaveProperty("evaluations");
  });

  it("the PDP metadata: endpoints of this PDP, identified by the URL it was asked at", async () => {
    const res = await fetch(`${s.url}/.well-known/authzen-configuration`, {
      headers: { "X-Request-ID": "md-1" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("md-1");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      policy_decision_point: s.url,
      access_evaluation_endpoint: `${s.url}/access/v1/evaluation`,
      access_evaluations_endpoint: `${s.url}/access/v1/evaluations`,
    });
  });
});

describe("AuthZEN 1.0: the three-way answer, the mapping and the pipeline", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce" });
  });
  afterAll(async () => {
    await s.close();
  });

  it("require_attestation is false, with the obligation, the decision id and both reasons", async () => {
    const res = await post(`${s.url}/access/v1/evaluation`, charlieDeploy);
    expect(res.status).toBe(200);
    const body = await res.json().then(loose);
    expect(body.decision).toBe(false);
    const c = body.context;
    expect(c.advice).toBe("require_attestation");
    expect(c.obligations).toEqual([
      expect.objectContaining({ id: "human_attestation", decision_id: c.decision_id }),
    ]);
    expect(Object.keys(c.reason_admin)).toEqual(["role_check", "trust_check", "environment", "context"]);
    expect(c.reason_admin.trust_check).toMatch(/0\.70/);
    expect(c.reason_user).toMatch(/^[^.]+\.$/);
    const logged = await s.store.get(c.decision_id);
    expect(logged?.decision.decision).toBe("require_attestation");
    // The directory gave charlie's role, as for an R6Request.
    expect(logged?.input).toMatchObject({
      actor_id: "user:charlie",
      actor_role: "",
      resource: "env:production",
    });
  });

  it("deny is false without an obligation; allow is true", async () => {
    const denied = await (await post(`${s.url}/access/v1/evaluation`, bobDeploy)).json().then(loose);
    expect(denied.decision).toBe(false);
    expect(denied.context.advice).toBe("deny");
    expect(denied.context).not.toHaveProperty("obligations");
    const allowed = await (
      await post(`${s.url}/access/v1/evaluation`, {
        subject: {
          type: "user",
          id: "alice",
          properties: { trust: { competence: 0.8, reliability: 0.8, integrity: 0.9 } },
        },
        action: { name: "read" },
        resource: { type: "docs", id: "public/readme.md" },
        context: { time: "2026-03-03T15:00:00Z" },
      })
    )
      .json()
      .then(loose);
    expect(allowed.decision).toBe(true);
    expect(allowed.context).not.toHaveProperty("obligations");
  });

  it("what the mapping cannot fill is a 400 naming the AuthZEN path", async () => {
    const res = await post(`${s.url}/access/v1/evaluation`, {
      subject: { type: "agent", id: "planner-7" },
      action: { name: "read" },
      resource: { type: "docs", id: "x" },
    });
    expect(res.status).toBe(400);
    const body = await res.json().then(loose);
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.issues.map((i: { path: string }) => i.path)).toEqual([
      "subject.properties.role",
      "subject.properties.trust",
    ]);
    expect(body.error.issues[0].message).toContain("agent:planner-7");

    const bad = await post(`${s.url}/access/v1/evaluation`, {
      subject: {
        type: "user",
        id: "bob",
        properties: { trust: { competence: 0.8, reliability: 2, integrity: "high" } },
      },
      action: { name: "" },
      resource: { type: "env" },
      context: { time: "yesterday-ish", actor_role: "admin" },
    });
    expect(bad.status).toBe(400);
    const paths = (await bad.json().then(loose)).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["action.name", "resource.id"]));

    const mapped = await post(`${s.url}/access/v1/evaluation`, {
      ...bobDeploy,
      subject: {
        ...bobDeploy.subject,
        properties: { role: "developer", trust: { competence: 0.8, reliability: 2, integrity: "high" } },
      },
      context: { time: "yesterday-ish", actor_role: "admin" },
    });
    expect(mapped.status).toBe(400);
    const issues = (await mapped.json().then(loose)).error.issues.map((i: { path: string }) => i.path);
    expect(issues).toEqual(
      expect.arrayContaining([
        "subject.properties.trust.reliability",
        "subject.properties.trust.integrity",
        "context.time",
        "context.actor_role",
      ]),
    );
  });

  it("errors of the whole payload use the spec's statuses; a missing key is 400", async () => {
    const missing = await post(`${s.url}/access/v1/evaluation`, { subject: alice });
    expect(missing.status).toBe(400);
    const issues = (await missing.json().then(loose)).error.issues;
    expect(issues).toEqual([
      { path: "action", message: "required" },
      { path: "resource", message: "required" },
    ]);
    const semantic = await post(`${s.url}/access/v1/evaluations`, {
      ...charlieDeploy,
      options: { evaluations_semantic: "first_come" },
      evaluations: [{}],
    });
    expect(semantic.status).toBe(400);
    expect((await semantic.json().then(loose)).error.issues[0].path).toBe("options.evaluations_semantic");
    const notArray = await post(`${s.url}/access/v1/evaluations`, { evaluations: {} });
    expect(notArray.status).toBe(400);
  });
});

describe("AuthZEN 1.0: modes, the control and auth as on /v1/advisory", () => {
  it("shadow: the control from context.policy_advisor.control is what applies; the advice is logged", async () => {
    const s = await startTestServer({ mode: "shadow" });
    try {
      const res = await post(`${s.url}/access/v1/evaluation`, {
        ...charlieDeploy,
        context: { ...charlieDeploy.context, policy_advisor: { control: "allow" } },
      });
      const body = await res.json().then(loose);
      expect(body.decision).toBe(true);
      expect(body.context).toMatchObject({ mode: "shadow", effective_decision: "allow", deferred: true });
      expect(body.context).not.toHaveProperty("obligations");
      await s.ctx.service.drain();
      const logged = await s.store.get(body.context.decision_id);
      expect(logged?.control).toBe("allow");
      expect(logged?.decision.decision).toBe("require_attestation");
      // Without a control, shadow answers with the advice: attestation, never true.
      const own = await (await post(`${s.url}/access/v1/evaluation`, charlieDeploy)).json().then(loose);
      expect(own.decision).toBe(false);
      expect(own.context.obligations).toHaveLength(1);
      const badControl = await post(`${s.url}/access/v1/evaluation`, {
        ...charlieDeploy,
        context: { policy_advisor: { control: "yes", other: 1 } },
      });
      expect(badControl.status).toBe(400);
      const paths = (await badControl.json().then(loose)).error.issues.map((i: { path: string }) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(["context.policy_advisor.control", "context.policy_advisor"]),
      );
    } finally {
      await s.close();
    }
  });

  it("enforce: a control never loosens; require_attestation stays false", async () => {
    const s = await startTestServer({ mode: "enforce" });
    try {
      const body = await (
        await post(`${s.url}/access/v1/evaluation`, {
          ...charlieDeploy,
          context: { ...charlieDeploy.context, policy_advisor: { control: "allow" } },
        })
      )
        .json()
        .then(loose);
      expect(body.decision).toBe(false);
      expect(body.context.effective_decision).toBe("require_attestation");
    } finally {
      await s.close();
    }
  });

  it("auth: the evaluation routes need a caller token (401), the metadata is public", async () => {
    const token = "caller-token-0123456789abcdef";
    const tokens = new TokenSet();
    tokens.add("caller", token);
    const s = await startTestServer({ mode: "enforce", tokens });
    try {
      const no = await post(`${s.url}/access/v1/evaluation`, charlieDeploy, { "X-Request-ID": "r-401" });
      expect(no.status).toBe(401);
      expect(no.headers.get("x-request-id")).toBe("r-401");
      const yes = await post(
        `${s.url}/access/v1/evaluations`,
        { ...charlieDeploy, evaluations: [{}] },
        {
          authorization: `Bearer ${token}`,
        },
      );
      expect(yes.status).toBe(200);
      expect((await fetch(`${s.url}/.well-known/authzen-configuration`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("/openapi.json describes the AuthZEN routes", async () => {
    const s = await startTestServer();
    try {
      const doc = await (await fetch(`${s.url}/openapi.json`)).json().then(loose);
      for (const path of ["/access/v1/evaluation", "/access/v1/evaluations"])
        expect(doc.paths[path].post.requestBody).toBeDefined();
      expect(doc.paths["/.well-known/authzen-configuration"].get).toBeDefined();
    } finally {
      await s.close();
    }
  });

  it("a configured public URL is the PDP identifier", async () => {
    const s = await startTestServer({ authzen: { publicUrl: "https://pdp.example.com/" } });
    try {
      expect(await (await fetch(`${s.url}/.well-known/authzen-configuration`)).json()).toEqual({
        policy_decision_point: "https://pdp.example.com",
        access_evaluation_endpoint: "https://pdp.example.com/access/v1/evaluation",
        access_evaluations_endpoint: "https://pdp.example.com/access/v1/evaluations",
      });
    } finally {
      await s.close();
    }
  });
});
