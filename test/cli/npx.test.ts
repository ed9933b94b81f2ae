import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";

const dir = mkdtempSync(join(tmpdir(), "pa-npx-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const MAIN = join(packageRoot, "dist", "cli", "main.js");

/**
 * `npx policy-advisor serve` in the checkout, as a new user types it, with an empty npm cache (the first
 * use in a fresh clone). Returns the npm process, the URL once listening, and how long that took.
 */
async function npxServe(
  name: string,
): Promise<{ npm: ChildProcess; url: string; ms: number; output: () => string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  const started = performance.now();
  const npm = spawn(
    "npx",
    ["--yes", "policy-advisor", "serve", "--port", "0", "--db", join(dir, `${name}.db`)],
    {
      cwd: packageRoot,
      env: {
        ...env,
        npm_config_cache: join(dir, `cache-${name}`),
        npm_config_update_notifier: "false",
        npm_config_fund: "false",
        npm_config_audit: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(npm);
  let out = "";
  npm.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  npm.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    npm.stderr?.on("data", check);
    npm.stdout?.on("data", check);
    npm.on("exit", (code) => reject(new Error(`npx exited ${code} before listening:\n${out}`)));
  });
  return { npm, url, ms: performance.now() - started, output: () => out };
}

/** Resolves once nothing answers at `url` any more; rejects after `ms`. */
async function stopsAnswering(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} still answers ${ms} ms after npm stopped`);
}

describe("npx policy-advisor serve in the checkout", () => {
  it("starts the checkout's own build without rebuilding it, and stops when npm gets SIGTERM", async () => {
    const builtAt = statSync(MAIN).mtimeMs;
    const s = await npxServe("term");
    console.log(`npx policy-advisor serve listening after ${(s.ms / 1000).toFixed(1)} s (fresh npm cache)`);
    // The 44 s this took was `prepare` rebuilding the package in npm's cache; nothing is rebuilt now.
    expect(statSync(MAIN).mtimeMs).toBe(builtAt);
    // Generous for a loaded 2-core machine; unloaded it is about 2 s.
    expect(s.ms).toBeLessThan(20_000);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    // Only npm is signalled, as `kill PID` or a process manager would do: npm passes it to its shell,
    // which dies without passing it on.
    s.npm.kill("SIGTERM");
    await stopsAnswering(s.url, 15_000);
    await expect.poll(() => s.output(), { timeout: 10_000 }).toMatch(/"msg":"stopped"/);
  }, 150_000);

  it("stops when npm is killed outright (SIGKILL: npm cannot pass anything on)", async () => {
    const s = await npxServe("kill");
    s.npm.kill("SIGKILL");
    await stopsAnswering(s.url, 15_000);
    await expect
      .poll(() => s.output(), { timeout: 10_000 })
      .toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
  }, 150_000);
});
