import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ENV_NAMES } from "../../src/server/config.js";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The environment without any POLICY_ADVISOR_* setting of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.values(ENV_NAMES)) delete env[name];
  for (const name of ["POLICY_ADVISOR_TOKEN", "POLICY_ADVISOR_REVIEWER_TOKEN", "POLICY_ADVISOR_CONFIG"])
    delete env[name];
  return { ...env, ...extra };
}

export interface ServeChild {
  child: ChildProcess;
  url: string;
  /** Everything written to stdout so far (the JSON log). */
  stdout(): string;
  /** The JSON log lines so far. */
  lines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * `policy-advisor serve` as its own process (its own event loop, as in production), on a free port;
 * resolves once it listens. `wrap` runs it under another command (e.g. prlimit).
 */
export function serveChild(
  args: string[],
  opts: { env?: Record<string, string>; wrap?: string[] } = {},
): Promise<ServeChild> {
  const node = [
    process.execPath,
    "--import",
    "tsx",
    join(ROOT, "src/cli/main.ts"),
    "serve",
    "--port",
    "0",
    ...args,
  ];
  const [cmd, ...rest] = opts.wrap ? [...opts.wrap, ...node] : node;
  const child = spawn(cmd as string, rest, { cwd: ROOT, env: cleanEnv(opts.env) });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m?.[1])
        resolve({
          child,
          url: m[1],
          stdout: () => out,
          lines: () =>
            out
              .split("\n")
              .filter((l) => l.startsWith("{"))
              .map((l) => JSON.parse(l) as Record<string, unknown>),
          stop,
        });
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
