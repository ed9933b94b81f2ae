import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildHandle, freePort, startNode, waitForHttp } from "./child.js";

export interface SidecarOptions {
  /** Decision log: a SQLite file path or postgres:// URL; default a fresh SQLite file in a temp dir. */
  db?: string;
  cache: boolean;
  /** Extra `serve` flags. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface Sidecar {
  url: string;
  port: number;
  child: ChildHandle;
  db: string;
  stop(): Promise<void>;
}

/**
 * Starts `policy-advisor serve` in a child process on a free port and waits for /ready. The caller's
 * load generator then runs in its own process, as the benchmark requires.
 */
export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const port = await freePort();
  let tempDir: string | undefined;
  let db = opts.db;
  if (!db) {
    tempDir = mkdtempSync(join(tmpdir(), "pa-bench-"));
    db = join(tempDir, "decisions.sqlite");
  }
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", db, ...(opts.args ?? [])];
  // The cache switch goes through the environment, which `serve` reads like its flags. The per-client
  // rate limits are off: the benchmark is one client driving the service as hard as it answers.
  const child = startNode("cli/main", args, {
    POLICY_ADVISOR_CACHE: opts.cache ? "on" : "off",
    POLICY_ADVISOR_RATE_LIMIT: "off",
    POLICY_ADVISOR_BODY_RATE_LIMIT: "off",
    ...(opts.env ?? {}),
  });
  const url = `http://127.0.0.1:${port}`;
  const cleanup = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/ready`, child, opts.readyTimeoutMs ?? 30_000);
  } catch (e) {
    await child.stop();
    cleanup();
    throw e;
  }
  return {
    url,
    port,
    child,
    db,
    async stop() {
      await child.stop();
      cleanup();
    },
  };
}

/** Starts the bare Fastify ceiling server (src/bench/bare-server.ts) in a child process. */
export async function startBare(): Promise<{ url: string; child: ChildHandle; stop(): Promise<void> }> {
  const port = await freePort();
  const child = startNode("bench/bare-server", ["--port", String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, child);
  return { url, child, stop: () => child.stop() };
}
