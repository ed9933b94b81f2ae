import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Runs one of the package's own entry points (e.g. "cli/main") in a child process, from dist/ when this
 * code runs compiled and from src/ through tsx when it runs from source (tests), so the measured
 * process is always a separate one from the load generator.
 */
export function nodeEntry(entry: string): { args: string[]; file: string } {
  const compiled = fileURLToPath(new URL(`../${entry}.js`, import.meta.url));
  if (import.meta.url.endsWith(".js") && existsSync(compiled)) return { args: [compiled], file: compiled };
  const source = fileURLToPath(new URL(`../${entry}.ts`, import.meta.url));
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return { args: ["--import", pathToFileURL(tsx).href, source], file: source };
}

export interface ChildHandle {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote to stderr so far (last 64 KiB), for error messages. */
  stderr(): string;
  /** The last 16 KiB it wrote to stdout, when started with keepStdout (Cerbos logs there). */
  stdout(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (crash tests); resolves once the process is gone. */
  kill9(): Promise<void>;
  exited(): boolean;
}

export function startNode(entry: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildHandle {
  const { args: nodeArgs } = nodeEntry(entry);
  return startProcess(process.execPath, [...nodeArgs, ...args], env, { label: entry });
}

export interface ProcessOptions {
  /** Name in error messages (default the command). */
  label?: string;
  cwd?: string;
  /** Keep the tail of stdout for error messages (for programs that log there; off: a no-op drain). */
  keepStdout?: boolean;
}

/** Starts any program (e.g. a peer's server binary) as a child with the same handle as startNode. */
export function startProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  opts: ProcessOptions = {},
): ChildHandle {
  const label = opts.label ?? command;
  const proc = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let err = "";
  let gone = false;
  const exit = new Promise<void>((resolve) => {
    proc.once("exit", () => {
      gone = true;
      resolve();
    });
  });
  // A program that cannot be started reports it as an event: keep it as the handle's stderr.
  proc.once("error", (e) => {
    err += `${e.message}\n`;
  });
  proc.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-65_536);
  });
  // Drain stdout so a chatty child never blocks on a full pipe (the sidecar logs a line per decision:
  // keeping it would cost the load generator, which shares this process).
  let out = "";
  proc.stdout?.on(
    "data",
    opts.keepStdout
      ? (d: Buffer) => {
          out = (out + d.toString()).slice(-16_384);
        }
      : () => {},
  );
  if (proc.pid === undefined) throw new Error(`could not start ${label}`);
  const pid = proc.pid;
  return {
    proc,
    pid,
    stderr: () => err,
    stdout: () => out,
    exited: () => gone,
    async stop(graceMs = 5000) {
      if (gone) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
    async kill9() {
      if (gone) return;
      proc.kill("SIGKILL");
      await exit;
    },
  };
}

/** Polls a URL until it answers 200, the child dies, or the time runs out. */
export async function waitForHttp(url: string, child: ChildHandle, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < until) {
    if (child.exited())
      throw new Error(`${url}: the process exited before it was ready:\n${child.stderr().trim()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `status ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last}):\n${child.stderr().trim()}`);
}

/** Resident set size of a process in MB, from /proc (Linux); undefined where that is unavailable. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process has used so far, in microseconds, from /proc/PID/stat (Linux; the
 * kernel reports it in USER_HZ ticks, 100 per second on every Linux ABI). Undefined elsewhere.
 */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10_000 : undefined;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
