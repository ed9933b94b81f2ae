import { readFileSync } from "node:fs";

/** The state and parent of a process from /proc (Linux); null where /proc cannot tell. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** Whether `pid` is npm itself: `npm exec ...` as npm titles itself, or node running npm-cli.js. */
function isNpm(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return /^npm( |$)/.test(argv[0] ?? "") || argv.some((a) => a.endsWith("npm-cli.js"));
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  const st = procStat(pid);
  if (st) return st.state !== "Z" && st.state !== "X";
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `npx policy-advisor ...` runs this bin as npm exec -> sh -c -> node. npm passes a SIGTERM or SIGINT to the
 * shell only, which dies without passing it on, and a killed npm passes nothing: the server was left running,
 * orphaned. Started by npm exec, this process follows npm instead: once npm or the shell between is gone,
 * it sends itself SIGTERM and stops as if npm had passed the signal on (serve shuts down gracefully).
 *
 * Only when npm is the parent or the parent's parent (read from /proc on Linux; elsewhere the parent alone
 * is watched), so that a process merely inheriting npm's environment is never stopped by its parent's exit.
 */
export function followNpmLauncher(env: NodeJS.ProcessEnv = process.env, intervalMs = 500): void {
  if (env.npm_command !== "exec") return;
  const parent = process.ppid;
  let npm: number | null = null;
  const parentStat = procStat(parent);
  if (parentStat) {
    if (isNpm(parent)) npm = parent;
    else if (isNpm(parentStat.ppid)) npm = parentStat.ppid;
    else return;
  }
  const timer = setInterval(() => {
    if (process.ppid === parent && (npm === null || alive(npm))) return;
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
  }, intervalMs);
  timer.unref();
}
