import { describe, expect, it } from "vitest";
import { startNode } from "../../src/bench/child.js";
import { runEngineBench } from "../../src/bench/engine.js";
import { formatBench } from "../../src/bench/format.js";
import { machineInfo } from "../../src/bench/machine.js";
import { longTests } from "../helpers/long.js";

const long = longTests("bench");

/** `policy-advisor bench`: the engine section in-process, the CLI contract, and a short full run. */

async function cli(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startNode("cli/main", args);
  let stdout = "";
  child.proc.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      void child.kill9();
      resolve(null);
    }, timeoutMs);
    child.proc.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr: child.stderr() };
}

describe("bench", () => {
  it("engine section: per-decision median and p99 over the seeds and variations, with targets", async () => {
    const r = await runEngineBench({ situations: 200, decisions: 3000, advisorDecisions: 1000 });
    expect(r.medianUs).toBeGreaterThan(0);
    expect(r.p99Us).toBeGreaterThanOrEqual(r.medianUs);
    expect(r.adviseMedianUs).toBeGreaterThan(0);
    expect(r.decisions).toBe(3000);
    expect(r.distinctSituations).toBe(200);
    // The workload reaches every decision, not one hot path.
    expect(Object.keys(r.distribution).sort()).toEqual(["allow", "deny", "require_attestation"]);
    expect(r.targets.map((t) => t.name)).toEqual(["engine median", "engine p99"]);
    const table = formatBench({
      machine: "test",
      machineInfo: machineInfo(),
      startedAt: new Date().toISOString(),
      durationSec: 1,
      engine: r,
      llm: { skipped: true, reason: "not in this build" },
    });
    expect(table).toContain("median per decision");
    expect(table).toContain("not in this build");
  });

  it("an unknown --only section is a usage error naming it (exit 2, nothing on stdout)", async () => {
    const r = await cli(["bench", "--only", "engine,warp"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/"warp"/);
    expect(r.stderr).toMatch(/engine, http, llm, memory/);
  }, 60_000);

  it("a --threads that is not a positive whole number is a usage error naming it", async () => {
    const r = await cli(["bench", "--only", "llm", "--threads", "0"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--threads: expected a positive whole number, got "0"/);
  }, 60_000);

  it.skipIf(!long)(
    "a quick run of the engine, http and memory sections prints one JSON object of the INTERFACES.md shape",
    async () => {
      // The llm section (llm-local's runLlmBench) takes minutes on 2 cores even when quick; its own tests cover it.
      const r = await cli(["bench", "--quick", "--json", "--only", "engine,http,memory"], 240_000);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
      expect(typeof report.machine).toBe("string");
      expect(report.engine?.medianUs).toBeGreaterThan(0);
      expect(report.http?.rps).toBeGreaterThan(0);
      expect(report.http?.bareRps).toBeGreaterThan(0);
      expect(report.http?.ratio).toBeGreaterThan(0);
      expect(report.http?.p99Ms).toBeGreaterThanOrEqual(0);
      expect(report.http?.cache).toBe("off");
      // Server CPU per request, read from /proc: what a request costs whatever else holds the cores.
      const cacheOff = report.http?.cacheOff as { serverCpuUsPerRequest: number | null } | undefined;
      const bare = report.http?.bare as { serverCpuUsPerRequest: number | null } | undefined;
      expect(cacheOff?.serverCpuUsPerRequest).toBeGreaterThan(0);
      expect(bare?.serverCpuUsPerRequest).toBeGreaterThan(0);
      expect(report.http?.cpuRatio).toBeGreaterThan(0);
      expect(report.memory?.idleRssMb).toBeGreaterThan(0);
      expect(report.memory?.loadedRssMb).toBeGreaterThan(0);
      expect(r.stderr).toMatch(/http: bare Fastify route/);
    },
    300_000,
  );
});
