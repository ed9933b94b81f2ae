import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_PATH } from "../../src/policy/load.js";
import { ENV_NAMES, flagOf } from "../../src/server/config.js";
import { openStore } from "../../src/store/index.js";
import { loose, post, readSituation } from "./helpers.js";
import { type ModelServer, startModelServer } from "./model-server.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = ["--import", "tsx", join(ROOT, "src/cli/main.ts")];

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.values(ENV_NAMES)) if (!(name in extra)) delete env[name];
  for (const name of ["POLICY_ADVISOR_TOKEN", "POLICY_ADVISOR_REVIEWER_TOKEN", "POLICY_ADVISOR_CONFIG"]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

function runCli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    encoding: "utf8",
    timeout: 30_000,
  });
}

/** Starts `policy-advisor serve` as its own process; resolves with its URL once it listens. */
function startCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0", ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
  });
  let err = "";
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve({ child, url: m[1], stderr: () => err });
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

describe("policy-advisor serve (CLI)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pa-cli-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("--help documents every option and its environment variable", () => {
    const r = runCli(["serve", "--help"]);
    expect(r.status).toBe(0);
    for (const [key, env] of Object.entries(ENV_NAMES)) {
      expect(r.stdout).toContain(flagOf(key));
      expect(r.stdout).toContain(env);
    }
    expect(r.stdout).toContain("--config");
  });

  it("bad settings exit 2 naming the flag, the variable or the config file entry", () => {
    const flag = runCli(["serve", "--port", "abc", "--db", join(dir, "x.db")]);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain("--port: expected a port");
    expect(flag.stderr).not.toMatch(/\n\s+at /);
    const env = runCli(["serve", "--db", join(dir, "x.db")], { POLICY_ADVISOR_DEADLINE_MS: "-5" });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain("POLICY_ADVISOR_DEADLINE_MS");
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "port: 8787\nqueueSize: lots\ncolour: blue\n");
    const file = runCli(["serve", "--config", cfg]);
    expect(file.status).toBe(2);
    expect(file.stderr).toContain(`${cfg}: queueSize`);
    expect(file.stderr).toContain("colour");
    const mode = runCli(["serve", "--mode", "yolo"]);
    expect(mode.status).toBe(2);
    expect(mode.stderr).toContain("--mode");
  });

  it("refuses a non-loopback address without API tokens", () => {
    const r = runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--db", join(dir, "y.db")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--host 0.0.0.0");
    expect(r.stderr).toContain("tokens");
  });

  it("a weak token in the tokens file is refused, naming the line", () => {
    const tokens = join(dir, "tokens");
    writeFileSync(tokens, "# tokens\ncaller short\n");
    const r = runCli(["serve", "--tokens-file", tokens, "--db", join(dir, "z.db")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${tokens}:2`);
  });

  it("runs from a config file with tokens from the environment; SIGHUP reloads the policy", async () => {
    const cfg = join(dir, "ok.json");
    const policy = join(dir, "policy.yaml");
    writeFileSync(policy, readFileSync(DEFAULT_POLICY_PATH, "utf8"));
    writeFileSync(
      cfg,
      JSON.stringify({ db: join(dir, "cfg.db"), mode: "enforce", logLevel: "warn", policy }),
    );
    const { child, url } = await startCli(["--config", cfg], {
      POLICY_ADVISOR_TOKEN: "a-caller-token-of-some-length",
    });
    try {
      expect((await post(`${url}/v1/advisory`, readSituation)).status).toBe(401);
      const ok = await post(`${url}/v1/advisory`, readSituation, {
        authorization: "Bearer a-caller-token-of-some-length",
      });
      expect(ok.status).toBe(200);
      const first = await ok.json().then(loose);
      expect(first.mode).toBe("enforce");
      writeFileSync(policy, readFileSync(policy, "utf8").replace('version: "1.0.0"', 'version: "1.0.9"'));
      child.kill("SIGHUP");
      const auth = { authorization: "Bearer a-caller-token-of-some-length" };
      let policyVersion = first.versions.policy;
      for (let i = 0; i < 100 && policyVersion === first.versions.policy; i++) {
        await new Promise((r) => setTimeout(r, 50));
        policyVersion = (await (await fetch(`${url}/v1/runtime`, { headers: auth })).json().then(loose))
          .versions.policy;
      }
      expect(policyVersion).not.toBe(first.versions.policy);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });

  describe("graceful shutdown under load", () => {
    let model: ModelServer;
    beforeAll(async () => {
      model = await startModelServer(800);
    });
    afterAll(async () => {
      await model.close();
    });

    it("SIGTERM: running work finishes, queued work fails closed, every answer is logged, exit 0", async () => {
      const db = join(dir, "shutdown.db");
      const { child, url, stderr } = await startCli([
        "--db",
        db,
        "--engine",
        "llm",
        "--llm-url",
        model.url,
        "--llm-model",
        "slow-model",
        "--mode",
        "enforce",
        "--concurrency",
        "2",
        "--queue-size",
        "20",
        "--deadline-ms",
        "20000",
        "--cache",
        "off",
        "--log-level",
        "warn",
      ]);
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const requests = Array.from({ length: 8 }, (_, i) =>
        post(`${url}/v1/advisory`, { ...readSituation, request_id: `load-${i}` }).then(async (res) => ({
          status: res.status,
          body: await res.json().then(loose),
        })),
      );
      // Wait until two run and the rest wait in the queue, then ask it to stop.
      for (let i = 0; i < 200; i++) {
        const rt = await (await fetch(`${url}/v1/runtime`)).json().then(loose);
        if (rt.queue.running === 2 && rt.queue.depth >= 4) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGTERM");
      const answers = await Promise.all(requests);
      const code = await exited;
      expect(code, stderr()).toBe(0);

      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      const bySource = answers.map((a) => a.body.source as string);
      expect(bySource.filter((s) => s === "llm").length).toBeGreaterThanOrEqual(2);
      const closed = answers.filter((a) => a.body.source === "fallback");
      expect(closed.length).toBeGreaterThanOrEqual(1);
      for (const a of closed) {
        expect(a.body.fallbackCause).toBe("queue_closed");
        expect(a.body.decision).not.toBe("allow");
      }
      // New connections are refused once it has stopped.
      await expect(fetch(`${url}/health`)).rejects.toThrow();
      // Every acknowledged decision is in the log.
      const store = await openStore(db);
      try {
        for (const a of answers)
          expect((await store.get(a.body.decisionId))?.decisionId).toBe(a.body.decisionId);
      } finally {
        await store.close();
      }
    });
  });
});
