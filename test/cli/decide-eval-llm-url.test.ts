import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeModel } from "../../src/testing/gguf/model.js";
import { BIN } from "../helpers/cli.js";
import { type ChatServer, completion, sendJson, startChatServer } from "../llm/openai/chat-server.js";

const SUITE = new URL("../../data/scenarios/seed-basic.json", import.meta.url).pathname;

/** Runs the built CLI without blocking this process, whose event loop serves the model server. */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const answerJson = (decision: string) =>
  JSON.stringify({
    decision,
    classification: "scripted",
    riskLevel: "high",
    reasoning: {
      roleCheck: "role check done",
      trustCheck: "borderline trust",
      environment: "high-risk environment",
      context: "attestation recommended; pattern deviation; additional verification",
    },
    policyReferences: ["scripted: answer"],
  });

/** The compact shape the default variant asks for: the model's context judgement only. */
const answerCompact = (decision: string) =>
  JSON.stringify({
    classification: "scripted",
    riskLevel: "high",
    decision,
    context: "attestation recommended; pattern deviation; additional verification",
  });

const answerText = (decision: string) =>
  `Classification: scripted\nRisk Level: high\nDecision: ${decision}\nReasoning:\n1. Role check: ok\n2. Trust check: borderline trust\n3. Environment: high-risk environment\n4. Context: attestation recommended\nPolicy References:\n- scripted: answer`;

describe("eval with a model server", { timeout: 90_000 }, () => {
  let server: ChatServer;
  const seen = new Map<string, number>();
  beforeAll(async () => {
    // Deterministic script: the n-th time a request for an actor is seen decides the answer, so that the
    // M02 actor (user:diana) gets a different decision on its second run and every other actor a stable one.
    server = await startChatServer((r, _n, res) => {
      const messages = r.body.messages as Array<{ content: string }>;
      const user = messages[1]?.content ?? "";
      const actor = /"actor_id":"([^"]+)"/.exec(user)?.[1] ?? "?";
      const schema = (r.body.response_format as { json_schema?: { schema?: { properties?: object } } })
        ?.json_schema?.schema;
      const variant = (messages[0]?.content ?? "").includes("plain-text form")
        ? "text"
        : schema?.properties && "reasoning" in schema.properties
          ? "full"
          : "compact";
      const key = `${variant}:${actor}`;
      const k = (seen.get(key) ?? 0) + 1;
      seen.set(key, k);
      const decision = actor === "user:diana" && k === 2 ? "deny" : "require_attestation";
      const answer = { text: answerText, full: answerJson, compact: answerCompact }[variant];
      sendJson(res, 200, completion(answer(decision)));
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("--runs N reports per-scenario decisions and stability", async () => {
    const r = await run([
      "eval",
      "--scenarios",
      SUITE,
      "--engine",
      "llm",
      "--llm-url",
      server.url,
      "--llm-model",
      "m",
      "--runs",
      "3",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.engine).toBe("llm");
    expect(report.versions.prompt).toMatch(/^default@sha256:/);
    expect(report.versions.model).toBe("m");
    const m02 = report.results.find((x: { id: string }) => x.id === "M02");
    expect(m02.decisions).toEqual(["require_attestation", "deny", "require_attestation"]);
    expect(m02.decision).toBe("require_attestation");
    expect(m02.stability).toBe(0.667);
    const m01 = report.results.find((x: { id: string }) => x.id === "M01");
    expect(m01).toMatchObject({
      decisions: ["require_attestation", "require_attestation", "require_attestation"],
      stability: 1,
      correct: true,
    });
    // The hard deny never reached the model.
    expect(report.results.find((x: { id: string }) => x.id === "E02").source).toBe("engine");
  });

  it("--prompt a,b compares variants side by side", async () => {
    const r = await run([
      "eval",
      "--scenarios",
      SUITE,
      "--engine",
      "hybrid",
      "--llm-url",
      server.url,
      "--llm-model",
      "m",
      "--prompt",
      "default,full,free-text",
      "--json",
    ]);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.comparison.map((s: { prompt: string }) => s.prompt)).toEqual(["default", "full", "free-text"]);
    expect(c.comparison[0].version).toMatch(/^default@sha256:/);
    expect(c.comparison[1].version).toMatch(/^full@sha256:/);
    expect(c.comparison[2].version).toMatch(/^free-text@sha256:/);
    expect(c.reports).toHaveLength(3);
    for (const s of c.comparison) expect(s).toMatchObject({ fallbacks: 0, criticalErrors: 0 });
    const table = await run([
      "eval",
      "--scenarios",
      SUITE,
      "--engine",
      "hybrid",
      "--llm-url",
      server.url,
      "--llm-model",
      "m",
      "--prompt",
      "default,free-text",
    ]);
    expect(table.stdout).toMatch(/default@sha256:[0-9a-f]{12}/);
    expect(table.stdout).toMatch(/free-text@sha256:[0-9a-f]{12}/);
  });

  it("names an unknown variant and refuses a comparison without a model", async () => {
    const bad = await run([
      "eval",
      "--scenarios",
      SUITE,
      "--engine",
      "llm",
      "--llm-url",
      server.url,
      "--prompt",
      "default,nope",
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown prompt variant "nope": known variants are .*default/);
    const rules = await run(["eval", "--scenarios", SUITE, "--prompt", "default,free-text"]);
    expect(rules.status).toBe(2);
    expect(rules.stderr).toMatch(/--prompt a,b .* needs --engine llm or hybrid/);
  });
});

describe("decide with a model server", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "decide-"));
  const input = join(dir, "req.json");
  writeFileSync(
    input,
    JSON.stringify({
      action_type: "commit",
      actor_role: "developer",
      actor_id: "user:nadia",
      t3_tensor: { competence: 0.9, reliability: 0.85, integrity: 0.9 },
      resource: "repo:core",
      timestamp: "2026-02-02T03:30:00Z",
      recent_history: "Nadia never commits at night",
    }),
  );

  it("hybrid sends the nuanced request to the server and records prompt and model versions", async () => {
    const server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(answerJson("deny"))));
    try {
      const r = await run([
        "decide",
        "--engine",
        "hybrid",
        "--llm-url",
        server.url,
        "--llm-model",
        "m",
        "--input",
        input,
      ]);
      expect(r.status).toBe(0);
      const d = JSON.parse(r.stdout);
      expect(d).toMatchObject({ decision: "deny", source: "llm", versions: { model: "m" } });
      expect(d.versions.prompt).toMatch(/^default@sha256:[0-9a-f]{12}$/);
      expect(d.disagreement).toMatchObject({ engine: "require_attestation", llm: "deny", kept: "llm" });
    } finally {
      await server.close();
    }
  });

  it("fails closed when the server is gone", async () => {
    const server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion("")));
    const url = server.url;
    await server.close();
    const r = await run([
      "decide",
      "--engine",
      "llm",
      "--llm-url",
      url,
      "--llm-model",
      "m",
      "--input",
      input,
    ]);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ decision: "require_attestation", source: "fallback" });
    expect(d.fallbackCause).toMatch(/^network: .*ECONNREFUSED/);
  });
});

describe("eval coverage by embeddings", () => {
  it("--embedding-model measures coverage with the model's embeddings at the given threshold", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-emb-"));
    const { path } = makeModel({ out: join(dir, "tiny.gguf"), preset: "tiny" });
    const r = await run([
      "eval",
      "--scenarios",
      SUITE,
      "--embedding-model",
      path,
      "--embedding-threads",
      "1",
      "--similarity-threshold",
      "-0.999",
      "--json",
    ]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.matcher).toBe("embedding (tiny.gguf, threshold -0.999)");
    // At a threshold below any similarity every element is expressed.
    expect(report.reasoningCoverage).toBe(1);
    const bad = await run(["eval", "--scenarios", SUITE, "--similarity-threshold", "7"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--similarity-threshold: expected a number from -1 to 1, got "7"/);
  }, 60_000);
});
