import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { DEFAULT_POLICY_PATH } from "../../src/policy/load.js";

/**
 * An AuthZEN client's requests against `policy-advisor serve`, the process a gateway would call. No
 * independent AuthZEN client is published on the npm registry (checked: authzen, @authzen/client,
 * @openid/authzen, authzen-client, @rocksolidknowledge/authzen-client all 404), so the client here is a
 * minimal PEP written from the specification alone: discovery, metadata validation, then evaluations,
 * reading nothing but `decision` (and, to show what it carries, the context).
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = ["--import", "tsx", join(ROOT, "src/cli/main.ts")];

/** A PEP per AuthZEN 1.0 §9 and §10: metadata from the well-known URL, then the advertised endpoint. */
class MinimalPep {
  private metadata: Record<string, string> | undefined;
  constructor(
    private readonly pdp: string,
    private readonly token: string,
  ) {}

  private async discover(): Promise<Record<string, string>> {
    if (this.metadata) return this.metadata;
    const res = await fetch(`${this.pdp}/.well-known/authzen-configuration`);
    if (res.status !== 200 || !res.headers.get("content-type")?.startsWith("application/json"))
      throw new Error(`metadata: ${res.status}`);
    const md = (await res.json()) as Record<string, string>;
    // §9.2.3: the identifier must be the one the metadata was fetched from, else it must not be used.
    if (md.policy_decision_point !== this.pdp) throw new Error(`PDP mix-up: ${md.policy_decision_point}`);
    this.metadata = md;
    return md;
  }

  async evaluate(request: unknown, requestId: string): Promise<{ decision: boolean; context?: unknown }> {
    const endpoint = (await this.discover()).access_evaluation_endpoint;
    if (!endpoint) throw new Error("no access_evaluation_endpoint");
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${this.token}`,
        "x-request-id": requestId,
      },
      body: JSON.stringify(request),
    });
    if (res.headers.get("x-request-id") !== requestId) throw new Error("X-Request-ID not echoed");
    if (res.status !== 200) throw new Error(`evaluation: ${res.status} ${await res.text()}`);
    return (await res.json()) as { decision: boolean; context?: unknown };
  }
}

let dir: string;
let child: ChildProcess;
let url: string;
const TOKEN = "gateway-token-0123456789abcdef";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pa-authzen-serve-"));
  const policy = parseYaml(readFileSync(DEFAULT_POLICY_PATH, "utf8")) as Record<string, unknown>;
  policy.actorTrust = {
    "user:alice": { competence: 0.8, reliability: 0.8, integrity: 0.9 },
    "user:bob": { competence: 0.8, reliability: 0.8, integrity: 0.9 },
    "user:charlie": { competence: 0.72, reliability: 0.68, integrity: 0.75 },
  };
  const policyFile = join(dir, "policy.yaml");
  writeFileSync(policyFile, stringify(policy));
  child = spawn(
    process.execPath,
    [...CLI, "serve", "--port", "0", "--db", join(dir, "decisions.db"), "--policy", policyFile],
    { cwd: ROOT, env: { ...process.env, POLICY_ADVISOR_TOKEN: TOKEN } },
  );
  child.stdout?.resume();
  let err = "";
  url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const at = "2026-03-03T15:00:00Z";

describe("an AuthZEN client against `serve` (default shadow mode, no control: the advice applies)", () => {
  it("allow is true, deny is false, require_attestation is false with the obligation", async () => {
    const pep = new MinimalPep(url.replace(/\/$/, ""), TOKEN);
    const allow = await pep.evaluate(
      {
        subject: { type: "user", id: "alice" },
        action: { name: "read" },
        resource: { type: "docs", id: "public/readme.md" },
        context: { time: at },
      },
      "req-allow",
    );
    expect(allow.decision).toBe(true);

    const deny = await pep.evaluate(
      {
        subject: { type: "user", id: "bob" },
        action: { name: "deploy" },
        resource: { type: "env", id: "production" },
        context: { time: at },
      },
      "req-deny",
    );
    expect(deny.decision).toBe(false);
    expect(deny.context).toMatchObject({ advice: "deny", mode: "shadow" });

    const attest = await pep.evaluate(
      {
        subject: { type: "user", id: "charlie" },
        action: { name: "deploy" },
        resource: { type: "env", id: "production" },
        context: { time: at, team_context: "Team policy requires 0.7 trust for deploys" },
      },
      "req-attest",
    );
    expect(attest.decision).toBe(false);
    expect(attest.context).toMatchObject({
      advice: "require_attestation",
      obligations: [{ id: "human_attestation" }],
    });
  });
});
