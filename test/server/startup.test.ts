import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/bench/child.js";
import { ENV_NAMES } from "../../src/server/config.js";
import { openStore } from "../../src/store/index.js";
import { loose } from "./helpers.js";

/**
 * Start-up writes nothing to the shared decision log until it can serve, and never moves a tier above
 * the log's mode past its gates. The sidecars are the built CLI (`node dist/cli/main.js serve`; npm test
 * builds first), each its own process, sharing one SQLite log as sidecars on one host do.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "dist/cli/main.js");

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.values(ENV_NAMES)) delete env[name];
  for (const name of ["POLICY_ADVISOR_TOKEN", "POLICY_ADVISOR_REVIEWER_TOKEN", "POLICY_ADVISOR_CONFIG"]) {
    delete env[name];
  }
  return env;
}

interface Serve {
  child: ChildProcess;
  /** Resolves with the URL once the process listens, rejects if it exits first. */
  listening: Promise<string>;
  /** Resolves with the exit code and everything written to stderr. */
  exited: Promise<{ code: number | null; stderr: string }>;
}

const running: ChildProcess[] = [];

function serve(args: string[]): Serve {
  const child = spawn(process.execPath, [MAIN, "serve", "--log-level", "warn", "--cache", "off", ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.push(child);
  let stderr = "";
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on("exit", (code) => resolve({ code, stderr }));
  });
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`serve exited ${code} before listening:\n${stderr}`)));
  });
  listening.catch(() => {});
  return { child, listening, exited };
}

/** A `serve` that must not start: its exit code and message, within 30 s. */
async function refused(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const s = serve(args);
  const timeout = setTimeout(() => s.child.kill("SIGKILL"), 30_000);
  const result = await s.exited;
  clearTimeout(timeout);
  return result;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await gone;
}

interface TierView {
  tier: string;
  mode: string;
  configuredMode: string;
  since: string | null;
}

/** Each tier's mode, as the running sidecar reads it from the log. */
async function tiers(url: string): Promise<TierView[]> {
  const res = await fetch(`${url}/v1/rollout`);
  expect(res.status).toBe(200);
  return loose(await res.json()).tiers.map((t: TierView) => ({
    tier: t.tier,
    mode: t.mode,
    configuredMode: t.configuredMode,
    since: t.since,
  }));
}

const ADVISORY = [
  ["read", "advisory"],
  ["write", "advisory"],
  ["deploy_nonprod", "advisory"],
  ["deploy_prod", "advisory"],
  ["admin", "advisory"],
];
const modesOf = (views: TierView[]) => views.map((t) => [t.tier, t.mode]);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pa-startup-"));
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map(stop));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("serve start-up and the shared decision log", () => {
  it("a second serve on the same port exits 2 and the running sidecar's modes stay, whatever its --mode", async () => {
    const db = join(dir, "same-port.db");
    const port = await freePort();
    const first = serve(["--port", String(port), "--db", db, "--mode", "advisory"]);
    const url = await first.listening;
    const before = await tiers(url);
    expect(modesOf(before)).toEqual(ADVISORY);

    // Refused by its gates before it even tries the port.
    const enforce = await refused(["--port", String(port), "--db", db, "--mode", "enforce"]);
    expect(enforce.code).toBe(2);
    expect(await tiers(url)).toEqual(before);
    expect(enforce.stderr).toContain("--mode enforce: cannot start read in enforce");
    // Modes that pass the check (lower, or forced) are still not recorded by a process that cannot serve.
    for (const mode of [
      ["--mode", "shadow"],
      ["--mode", "enforce", "--force", "--note", "drill"],
    ]) {
      const second = await refused(["--port", String(port), "--db", db, ...mode]);
      expect(second.code, mode.join(" ")).toBe(2);
      expect(await tiers(url), mode.join(" ")).toEqual(before);
      expect(second.stderr, mode.join(" ")).toContain(`--port ${port}: already in use on 127.0.0.1`);
    }
  }, 60_000);

  it("a second serve on another port with --mode enforce is refused naming the gate; --force --note records it", async () => {
    const db = join(dir, "other-port.db");
    const first = serve(["--port", String(await freePort()), "--db", db, "--mode", "advisory"]);
    const url = await first.listening;
    const before = await tiers(url);

    const up = await refused(["--port", String(await freePort()), "--db", db, "--mode", "enforce"]);
    expect(up.code).toBe(2);
    expect(up.stderr).toContain(
      "--mode enforce: cannot start read in enforce: the decision log has it in advisory and these gates fail: " +
        "agreement_sample (0 decisions with a review or a control (need 100))",
    );
    expect(up.stderr).toContain('--force --note "why"');
    expect(up.stderr).not.toMatch(/\n\s+at /);
    expect(await tiers(url)).toEqual(before);

    const noNote = await refused([
      "--port",
      String(await freePort()),
      "--db",
      db,
      "--mode",
      "enforce",
      "--force",
    ]);
    expect(noNote.code).toBe(2);
    expect(noNote.stderr).toContain('--force needs --note "why"');
    expect(await tiers(url)).toEqual(before);

    const forced = serve([
      ...["--port", String(await freePort()), "--db", db, "--mode", "enforce"],
      ...["--force", "--note", "incident 42: enforce now"],
    ]);
    await forced.listening;
    expect(modesOf(await tiers(url))).toEqual([
      ["read", "enforce"],
      ["write", "enforce"],
      ["deploy_nonprod", "enforce"],
      ["deploy_prod", "enforce"],
      ["admin", "advisory"],
    ]);
    const store = await openStore(db);
    try {
      const read = (await store.rolloutEvents("read")).at(-1);
      expect(read).toMatchObject({ kind: "config", from: "advisory", to: "enforce", by: "config" });
      expect(read?.reason).toMatch(
        /^--mode enforce: incident 42: enforce now \[forced past: agreement_sample, /,
      );
    } finally {
      await store.close();
    }
  }, 90_000);

  it("a second serve without --mode on another port with the same log leaves the modes as they are", async () => {
    const db = join(dir, "no-mode.db");
    const first = serve(["--port", String(await freePort()), "--db", db, "--mode", "advisory"]);
    const url = await first.listening;
    const before = await tiers(url);

    const second = serve(["--port", String(await freePort()), "--db", db]);
    const secondUrl = await second.listening;
    expect(await tiers(url)).toEqual(before);
    expect(modesOf(await tiers(secondUrl))).toEqual(ADVISORY);
    const runtime = loose(await (await fetch(`${secondUrl}/v1/runtime`)).json());
    expect(runtime.modes).toEqual(Object.fromEntries(ADVISORY));
  }, 60_000);
});
