import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/doctor/run.js";
import { type ChatServer, completion, sendJson, startChatServer } from "../llm/openai/chat-server.js";

const dir = mkdtempSync(join(tmpdir(), "pa-doctor-server-"));
const servers: ChatServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** The known request (E01: a member reading a public document) answered as the scenario expects. */
const advice = {
  decision: "allow",
  classification: "routine_read_access",
  riskLevel: "low",
  reasoning: { roleCheck: "ok", trustCheck: "ok", environment: "public docs", context: "routine" },
  policyReferences: ["role.member"],
};

async function server(reply: (n: number) => unknown): Promise<ChatServer> {
  const s = await startChatServer((_req, n, res) => sendJson(res, 200, reply(n)));
  servers.push(s);
  return s;
}

describe("policy-advisor doctor --llm-url", () => {
  it("passes against a server that answers the known request with valid advice", async () => {
    const s = await server(() => completion(JSON.stringify(advice)));
    const r = await runDoctor({ llmUrl: s.url, db: join(dir, "a.db") }, () => {}, undefined, {});
    expect(r.checks.map((c) => c.name)).toEqual([
      "config",
      "policy",
      "server",
      "inference",
      "latency",
      "decision_log",
    ]);
    for (const c of r.checks) expect(c, `${c.name}: ${c.detail}`).toMatchObject({ passed: true });
    expect(r.checks[2]?.detail).toContain("served-model");
    expect(r.checks[3]?.detail).toContain('answered "allow"');
    expect(r.checks[3]?.detail).toContain("as expected");
    expect(s.received.length).toBeGreaterThanOrEqual(2);
  });

  it("fails the known request when the model answers another decision than the expected one", async () => {
    const s = await server(() => completion(JSON.stringify({ ...advice, decision: "deny" })));
    const r = await runDoctor(
      { llmUrl: s.url, llmModel: "m", db: join(dir, "d.db") },
      () => {},
      undefined,
      {},
    );
    const inference = r.checks.find((c) => c.name === "inference");
    // Well-formed advice, but the wrong decision: the shape alone does not pass.
    expect(inference?.passed).toBe(false);
    expect(inference?.detail).toMatch(/known request E01 .* answered "deny" .* expected "allow"/);
    expect(inference?.hint).toMatch(/misreads a plain request/);
    expect(r.ok).toBe(false);
  });

  it("fails the inference check with a hint when the server answers garbage", async () => {
    const s = await server(() => completion("I am a teapot, no decision here."));
    const r = await runDoctor(
      { llmUrl: s.url, llmModel: "m", db: join(dir, "b.db") },
      () => {},
      undefined,
      {},
    );
    expect(r.ok).toBe(false);
    const inference = r.checks.find((c) => c.name === "inference");
    expect(inference?.passed).toBe(false);
    expect(inference?.hint).toMatch(/fail-closed/);
  });

  it("fails the server check when nothing listens, even with the model named", async () => {
    const s = await server(() => completion("{}"));
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const r = await runDoctor({ llmUrl: url, llmModel: "m", db: join(dir, "c.db") }, () => {}, undefined, {});
    const check = r.checks.find((c) => c.name === "server");
    expect(check?.passed).toBe(false);
    expect(check?.detail).toContain(url);
    expect(check?.hint).toMatch(/URL/);
    expect(r.checks.find((c) => c.name === "inference")?.passed).toBe(false);
  });
});
